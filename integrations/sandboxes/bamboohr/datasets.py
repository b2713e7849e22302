"""Datasets API v2 (`POST /api/v2/datasets/employee/data`): the employee dataset with an
OData-style filter, page/pageSize paging and `{fields: {...}}` rows whose values are
strings. It is how an integration looks an employee up by employeeNumber or workEmail."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.bamboohr import VENDOR
from integrations.sandboxes.bamboohr.auth import HOOKS
from integrations.sandboxes.bamboohr.employees import FIELDS
from integrations.sandboxes.dynamics import odata
from integrations.sandboxes.framework import sandbox_endpoint

DATASET_FIELDS = {"employeeId", *FIELDS}


def _problem(status: int, detail: str, **fields: str) -> JsonResponse:
    titles = {400: "Bad Request", 404: "Not Found"}
    body = {"type": "about:blank", "title": titles.get(status, "Error"), "status": status, "detail": detail}
    if fields:
        body["fields"] = fields
    return JsonResponse(body, status=status, content_type="application/problem+json")


def _value(row, name: str) -> str:
    value = row.record_id if name == "employeeId" else row.data.get(name)
    return "" if value is None else str(value)


def _parse(request: HttpRequest) -> dict | JsonResponse:
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return _problem(400, "The request body is not valid JSON.")
    if not isinstance(body, dict) or not isinstance(body.get("fields"), list) or not body["fields"]:
        return _problem(400, "fields is required.", fields="must be a non-empty array of field names")
    unknown = [f for f in body["fields"] if f not in DATASET_FIELDS]
    if unknown:
        return _problem(400, f"Unknown field(s): {', '.join(map(str, unknown))}.", fields="unknown field")
    size, page = body.get("pageSize", 100), body.get("page", 1)
    if not (isinstance(size, int) and 1 <= size <= 1000 and isinstance(page, int) and page >= 1):
        return _problem(400, "page must be ≥ 1 and pageSize between 1 and 1000.")
    return body


@sandbox_endpoint(HOOKS, write=False)
def employee_data(request: HttpRequest, dataset: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    if dataset != "employee":
        return _problem(404, f"The dataset '{dataset}' does not exist or is not accessible.")
    body = _parse(request)
    if isinstance(body, JsonResponse):
        return body
    try:
        predicate = odata.parse_filter(body.get("filter"))
    except odata.ODataSyntaxError as exc:
        return _problem(400, f"Invalid filter: {exc}", filter="invalid expression")
    rows = sorted(store.records(VENDOR, "employee"), key=lambda r: int(r.record_id))
    matched = [r for r in rows if predicate({n: _value(r, n) or None for n in DATASET_FIELDS})]
    size, page = body.get("pageSize", 100), body.get("page", 1)
    chunk = matched[(page - 1) * size : page * size]
    pages = max(1, -(-len(matched) // size))
    base = request.build_absolute_uri(request.path)
    return JsonResponse(
        {
            "data": [{"fields": {name: _value(r, name) for name in body["fields"]}} for r in chunk],
            "links": {
                "next": f"{base}?page={page + 1}" if page < pages else None,
                "prev": f"{base}?page={page - 1}" if page > 1 else None,
            },
            "meta": {"page": page, "pageSize": size, "totalPages": pages, "totalItems": len(matched)},
        }
    )
