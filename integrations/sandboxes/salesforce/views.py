"""Salesforce REST API views: OAuth token (My Domain host and generic login host), API
versions, SOQL query with nextRecordsUrl, sObject describe, create / read / update / delete,
upsert by External ID, changed ids, limits. No change events leave the sandbox: Salesforce has no
signed webhooks, so changes are read by SOQL on SystemModstamp."""

from __future__ import annotations

import json
import re
from datetime import datetime

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import bearer
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.framework import sandbox_endpoint
from integrations.sandboxes.salesforce import API_VERSION, DATA_PREFIX, VENDOR, describe, ids, records, schema, soql
from integrations.sandboxes.salesforce.auth import DAILY_MAX, HOOKS, api_usage, issue_token, sf_error
from integrations.sandboxes.salesforce.schema import SObject, SObjectError

DEFAULT_BATCH, MIN_BATCH, MAX_BATCH = 2000, 200, 2000


def _error(exc: SObjectError | soql.SoqlError) -> HttpResponse:
    if isinstance(exc, soql.SoqlError):
        return sf_error(400, str(exc), exc.code)
    return sf_error(exc.status, exc.message, exc.code, exc.fields)


def _body(request: HttpRequest) -> object:
    try:
        return json.loads(request.body or b"{}")
    except ValueError as exc:
        raise SObjectError(f"Unexpected character in JSON body: {exc}", "JSON_PARSER_ERROR") from None


def _not_found() -> HttpResponse:
    return sf_error(404, "The requested resource does not exist", "NOT_FOUND")


def _method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    response = sf_error(405, f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}",
                        "METHOD_NOT_ALLOWED")  # fmt: skip
    response["Allow"] = allowed
    return response


def _check_references(values: dict) -> None:
    for name in ("AccountId",):
        ref = values.get(name)
        if not ref:
            continue
        if not ids.is_valid(ref):
            raise SObjectError(f"Account ID: id value of incorrect type: {ref}", "MALFORMED_ID", [name])
        if records.find(schema.SOBJECTS["Account"], ref) is None:
            raise SObjectError("invalid cross reference id", "INVALID_CROSS_REFERENCE_KEY", [name])


def _duplicate(sobject: SObject, value: object) -> SObjectError:
    other = store.get_by_external_id(VENDOR, sobject.name, str(value))
    return SObjectError(
        f"duplicate value found: {sobject.unique_external_id} duplicates value on record with id: "
        f"{other.record_id if other else 'unknown'}",
        "DUPLICATE_VALUE",
        [sobject.unique_external_id],
    )


def _create(sobject: SObject, body: object) -> HttpResponse:
    values = schema.derive(sobject, schema.clean(sobject, body, creating=True))
    _check_references(values)
    try:
        with transaction.atomic():
            row = records.new_record(sobject, values)
    except IntegrityError:
        raise _duplicate(sobject, values.get(sobject.unique_external_id)) from None
    return JsonResponse({"id": row.record_id, "success": True, "errors": []}, status=201)


def _update(sobject: SObject, row, body: object) -> None:
    values = schema.derive(sobject, schema.clean(sobject, body, creating=False))
    _check_references(values)
    try:
        with transaction.atomic():
            records.change(sobject, row, values)
    except IntegrityError:
        raise _duplicate(sobject, values.get(sobject.unique_external_id)) from None


# --- auth and org ----------------------------------------------------------------------------
@bearer.token_endpoint  # the vendor's OAuth service: outside the data API's faults and rate limit
def token(request: HttpRequest) -> HttpResponse:
    return issue_token(request)


@bearer.token_endpoint
def login_token(request: HttpRequest) -> HttpResponse:
    """login.salesforce.com's token endpoint: every grant but client credentials."""
    return issue_token(request, login_host=True)


@sandbox_endpoint(HOOKS, auth=False)  # GET /services/data/ needs no session in Salesforce
def versions(request: HttpRequest) -> HttpResponse:
    """The API versions the org serves (label, url, version), oldest first."""
    served = [("Winter '24", "v59.0"), ("Spring '24", "v60.0"), ("Summer '24", "v61.0"), ("Winter '25", API_VERSION)]
    return JsonResponse([{"label": label, "url": f"/services/data/{v}", "version": v.lstrip("v")}
                         for label, v in served], safe=False)  # fmt: skip


@sandbox_endpoint(HOOKS)
def limits(request: HttpRequest) -> HttpResponse:
    used = api_usage()
    return JsonResponse({"DailyApiRequests": {"Max": DAILY_MAX, "Remaining": max(0, DAILY_MAX - used)}})


# --- SOQL ---------------------------------------------------------------------------------------
def _batch_size(request: HttpRequest) -> int:
    match = re.search(r"batchSize=(\d+)", request.headers.get("Sforce-Query-Options", ""))
    return max(MIN_BATCH, min(MAX_BATCH, int(match.group(1)))) if match else DEFAULT_BATCH


def _page(sobject: SObject, fields: list[str], record_ids: list[str], offset: int, batch: int,
          locator: str | None) -> dict:  # fmt: skip
    chunk = record_ids[offset : offset + batch]
    rows = {r.record_id: r.data for r in store.records(VENDOR, sobject.name).filter(record_id__in=chunk)}
    page = [records.shape(sobject, rows[i], fields) for i in chunk if i in rows]
    done = offset + batch >= len(record_ids)
    body = {"totalSize": len(record_ids), "done": done, "records": page}
    if not done:
        body["nextRecordsUrl"] = f"{DATA_PREFIX}/query/{locator}-{offset + batch}"
    return body


@sandbox_endpoint(HOOKS)
def query(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")
    try:
        parsed = soql.parse(text)
        sobject = schema.get(parsed.sobject)
        parsed = soql.canonicalize(parsed, sobject.canonical)
        rows = soql.run(parsed, [r.data for r in store.records(VENDOR, sobject.name)])
    except (soql.SoqlError, SObjectError) as exc:
        if isinstance(exc, SObjectError) and exc.code == "NOT_FOUND":
            return sf_error(400, f"\nFROM {parsed.sobject}\n^\nERROR at Row:1:Column:1\nsObject type "
                            f"'{parsed.sobject}' is not supported.", "INVALID_TYPE")  # fmt: skip
        return _error(exc)
    batch = _batch_size(request)
    record_ids = [r["Id"] for r in rows]
    locator = records.save_cursor(sobject.name, parsed.fields, record_ids, batch) if len(rows) > batch else None
    return JsonResponse(_page(sobject, parsed.fields, record_ids, 0, batch, locator))


@sandbox_endpoint(HOOKS)
def query_more(request: HttpRequest, locator: str, offset: str) -> HttpResponse:
    cursor, start = records.load_cursor(locator), int(offset)
    if cursor is None or start > len(cursor["ids"]):
        return sf_error(400, "invalid query locator", "INVALID_QUERY_LOCATOR")
    sobject = schema.get(cursor["sobject"])
    return JsonResponse(_page(sobject, cursor["fields"], cursor["ids"], start, cursor["batch"], locator))


# --- sObjects -----------------------------------------------------------------------------------
@sandbox_endpoint(HOOKS)
def sobject_root(request: HttpRequest, sobject: str) -> HttpResponse:
    try:
        spec = schema.get(sobject)
        if request.method == "POST":
            return _create(spec, _body(request))
        if request.method != "GET":
            return _method_not_allowed(request, "GET, POST")
    except SObjectError as exc:
        return _error(exc)
    recent = store.records(VENDOR, spec.name).order_by("-updated_at")[:10]
    return JsonResponse({
        "objectDescribe": {"name": spec.name, "label": spec.name, "createable": True, "updateable": True,
                           "urls": {"sobject": f"{DATA_PREFIX}/sobjects/{spec.name}"}},
        "recentItems": [{"attributes": records.attributes(spec.name, r.record_id), "Id": r.record_id,
                         "Name": r.data.get("Name")} for r in recent],
    })  # fmt: skip


@sandbox_endpoint(HOOKS)
def sobject_describe(request: HttpRequest, sobject: str) -> HttpResponse:
    """Every field with its type, label and whether it is custom (describe.py)."""
    try:
        spec = schema.get(sobject)
    except SObjectError as exc:
        return _error(exc)
    if request.method != "GET":
        return _method_not_allowed(request, "GET, HEAD")
    return JsonResponse(describe.describe(spec))


@sandbox_endpoint(HOOKS)
def sobject_record(request: HttpRequest, sobject: str, record_id: str) -> HttpResponse:
    try:
        spec = schema.get(sobject)
        row = records.find(spec, record_id)
        if row is None:
            if not ids.is_valid(record_id):
                return sf_error(400, f"{spec.name} ID: id value of incorrect type: {record_id}", "MALFORMED_ID")
            return _not_found()
        if request.method == "GET":
            wanted = [f.strip() for f in request.GET.get("fields", "").split(",") if f.strip()]
            fields = [spec.canonical(f) or f for f in wanted] or None
            unknown = [f for f in fields or [] if f not in spec.fields]
            if unknown:
                raise SObjectError(f"No such column '{unknown[0]}' on sobject of type {spec.name}", "INVALID_FIELD")
            return JsonResponse(records.shape(spec, row.data, fields))
        if request.method == "PATCH":
            _update(spec, row, _body(request))
            return HttpResponse(status=204)
        if request.method == "DELETE":
            row.delete()
            return HttpResponse(status=204)
        return _method_not_allowed(request, "GET, PATCH, DELETE, HEAD")
    except SObjectError as exc:
        return _error(exc)


@sandbox_endpoint(HOOKS)
def sobject_by_external_id(request: HttpRequest, sobject: str, field: str, value: str) -> HttpResponse:
    try:
        spec = schema.get(sobject)
        canonical = spec.canonical(field)
        if canonical not in spec.external_ids:
            return sf_error(404, f"Provided external ID field does not exist or is not accessible: {field}",
                            "NOT_FOUND")  # fmt: skip
        request.sandbox_external_id = f"{canonical}={value}"
        matches = records.by_external_id(spec, canonical, value)
        if len(matches) > 1:
            urls = [records.attributes(spec.name, r.record_id)["url"] for r in matches]
            return JsonResponse(urls, status=300, safe=False)
        row = matches[0] if matches else None
        if request.method == "GET":
            return JsonResponse(records.shape(spec, row.data)) if row else _not_found()
        if request.method != "PATCH":
            return _method_not_allowed(request, "GET, PATCH")
        return _upsert(spec, canonical, value, row, _body(request))
    except SObjectError as exc:
        return _error(exc)


def _upsert(spec: SObject, field: str, value: str, row, body: object) -> HttpResponse:
    if isinstance(body, dict):
        sent = next((v for k, v in body.items() if k.lower() == field.lower()), value)
        if str(sent) != value:
            raise SObjectError(f"The value for {field} in the request body does not match the value in the URL",
                               "INVALID_FIELD", [field])  # fmt: skip
        body = {k: v for k, v in body.items() if k.lower() != field.lower()}
    if row is not None:
        _update(spec, row, body)
        return JsonResponse({"id": row.record_id, "success": True, "errors": [], "created": False}, status=200)
    created = _create(spec, {**body, field: value} if isinstance(body, dict) else body)
    data = json.loads(created.content)
    return JsonResponse({**data, "created": True}, status=201)


@sandbox_endpoint(HOOKS)
def sobject_updated(request: HttpRequest, sobject: str) -> HttpResponse:
    try:
        spec = schema.get(sobject)
        start, end = soql.parse_datetime(request.GET["start"]), soql.parse_datetime(request.GET["end"])
    except SObjectError as exc:
        return _error(exc)
    except (KeyError, ValueError):
        return sf_error(400, "start and end must be valid dateTime values", "INVALID_REPLICATION_DATE")
    changed = [r.data for r in store.records(VENDOR, spec.name)
               if start <= soql.parse_datetime(r.data["SystemModstamp"]) <= end]  # fmt: skip
    changed.sort(key=lambda d: d["SystemModstamp"])
    latest = min(end, datetime.now(tz=end.tzinfo))
    return JsonResponse({"ids": [d["Id"] for d in changed], "latestDateCovered": records.stamp(latest)})
