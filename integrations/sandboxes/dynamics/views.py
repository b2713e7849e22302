"""Dataverse Web API views: entity-set collections with OData query options and `$expand`,
records by primary or alternate key (only keys the environment defines), PATCH upsert with
If-Match / If-None-Match, `$batch` with change sets, the WinOpportunity action, alternate
key metadata (EntityDefinitions(...)/Keys), WhoAmI."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import bearer
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.dynamics import VENDOR, actions, batch, expand, keys, odata
from integrations.sandboxes.dynamics.auth import HOOKS, TENANT, issue_token
from integrations.sandboxes.dynamics.entities import (
    SETS,
    DataverseError,
    EntitySet,
    apply_payload,
    check_known,
    entity_set,
    new_id,
    now_iso,
)
from integrations.sandboxes.framework import sandbox_endpoint
from integrations.sandboxes.models import SandboxRecord

API = "api/data/v9.2"
DEFAULT_PAGE = 5000


def _api_root(request: HttpRequest) -> str:
    return request.build_absolute_uri(f"/sandbox/{VENDOR}/{API}/")


def _error(exc: DataverseError) -> HttpResponse:
    return HOOKS.error_response(exc.status, exc.message, exc.code)


def _shape(row: SandboxRecord, select: list[str] | None = None) -> dict:
    data = row.data
    if select is not None:
        data = {k: data.get(k) for k in select}
    return {"@odata.etag": f'W/"{row.version}"', **data}


def _find(es: EntitySet, key) -> SandboxRecord | None:
    if isinstance(key, dict):
        name, value = next(iter(key.items()))
        if name not in keys.defined_keys(es) or len(key) != 1:
            raise DataverseError(
                400, "0x80060888", f"The key {', '.join(key)} is not defined for entity '{es.logical}'."
            )
        return store.get_by_external_id(VENDOR, es.name, value)
    return store.get(VENDOR, es.name, key)


def _missing(es: EntitySet, key) -> DataverseError:
    shown = key if isinstance(key, str) else ", ".join(f"{k} = {v}" for k, v in key.items())
    return DataverseError(404, "0x80040217", f"{es.logical} With Ids = {shown} Does Not Exist")


def _resolve_lookup(target: str, ref: str) -> str:
    set_name, key = odata.parse_key_segment(str(ref).strip("/").rsplit("/", 1)[-1])
    if set_name != target or key is None:
        raise DataverseError(400, "0x80060888", f"The URI '{ref}' is not valid for a lookup to '{target}'.")
    if isinstance(key, dict) and target in SETS:
        # A lookup may name its record by an alternate key, `/accounts(accountnumber='ABC123')`
        # ("You also use URLs to set values for single-valued navigation properties using the
        # @odata.bind syntax"), only one the table defines:
        # https://learn.microsoft.com/en-us/power-apps/developer/data-platform/use-alternate-key-reference-record
        row = _find(SETS[target], key)
        if row is None:
            raise _missing(SETS[target], key)
        return row.record_id
    if not isinstance(key, str):
        raise DataverseError(400, "0x80060888", f"The URI '{ref}' is not valid for a lookup to '{target}'.")
    if target in SETS and not store.get(VENDOR, target, key):
        raise DataverseError(404, "0x80040217", f"Entity '{target.rstrip('s')}' With Id = {key} Does Not Exist")
    return key


@bearer.token_endpoint
def token(request: HttpRequest, tenant: str) -> HttpResponse:
    return issue_token(request, tenant)


@sandbox_endpoint(HOOKS)
def who_am_i(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        {
            "@odata.context": f"{_api_root(request)}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
            "BusinessUnitId": "5c1e3e4f-0b1d-ef11-8409-000d3a5b2c10",
            "UserId": "8a2b9c41-0b1d-ef11-8409-000d3a5b2c10",
            "OrganizationId": f"{TENANT}",
        }
    )


@sandbox_endpoint(HOOKS)
def resource(request: HttpRequest, segment: str) -> HttpResponse:
    return _dispatch(request, segment)


def _dispatch(request: HttpRequest, segment: str) -> HttpResponse:
    try:
        set_name, key = odata.parse_key_segment(segment)
        es = entity_set(set_name)
        if key is None:
            return _collection(request, es)
        return _record(request, es, key)
    except odata.ODataSyntaxError as exc:
        return _error(DataverseError(400, "0x80060888", str(exc)))
    except DataverseError as exc:
        return _error(exc)


def _collection(request: HttpRequest, es: EntitySet) -> HttpResponse:
    if request.method == "GET":
        return _list(request, es)
    if request.method == "POST":
        return _create(request, es)
    return HttpResponse(status=405)


def _page_size(request: HttpRequest) -> int | None:
    for part in request.headers.get("Prefer", "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "odata.maxpagesize" and value.isdigit():
            return max(1, int(value))
    return None


_LOOKUPS = {"gt": "gt", "ge": "gte", "lt": "lt", "le": "lte", "eq": "exact"}


def _matching(es: EntitySet, filter_text: str | None, orderby: list[tuple[str, bool]]):
    """The rows a $filter/$orderby select, in order: by the database when the filter is a
    plain conjunction (what pollers send), else by the general evaluator in Python."""
    simple = odata.conjunction(filter_text)
    qs = store.records(VENDOR, es.name)
    if simple is not None and all(op != "ne" for _, op, _ in simple):
        for name, op, value in simple:
            lookup = "iexact" if op == "eq" and isinstance(value, str) else _LOOKUPS[op]
            qs = qs.filter(**{f"data__{name}__{lookup}": value})
        ordering = [f"{'-' if desc else ''}data__{name}" for name, desc in orderby]
        return qs.order_by(*ordering, "id")
    predicate = odata.parse_filter(filter_text)
    rows = [r for r in qs.order_by("id") if predicate(r.data)]
    if orderby:
        rows = [item["_row"] for item in odata.sort_rows([{"_row": r, **r.data} for r in rows], orderby)]
    return rows


def _list(request: HttpRequest, es: EntitySet) -> HttpResponse:
    q = request.GET
    select = odata.parse_select(q.get("$select"))
    orderby = odata.parse_orderby(q.get("$orderby"))
    check_known(es, set(select or []) | odata.filter_properties(q.get("$filter")) | {n for n, _ in orderby})
    rows = _matching(es, q.get("$filter"), orderby)
    top = int(q["$top"]) if q.get("$top", "").isdigit() else None
    offset = int(q.get("$skiptoken", "0")) if q.get("$skiptoken", "0").isdigit() else 0
    requested = _page_size(request)
    size = requested or DEFAULT_PAGE
    end = offset + size if top is None else min(offset + size, top)
    chunk = list(rows[offset : end + 1])  # one more than the page tells whether another follows
    more = len(chunk) > end - offset and (top is None or end < top)
    chunk = chunk[: end - offset]
    select_cols = [es.key, *[c for c in (select or []) if c != es.key]] if select else None
    expanding = expand.parse(es, q.get("$expand"))
    context = f"{_api_root(request)}$metadata#{es.name}" + (f"({','.join(select)})" if select else "")
    body: dict = {"@odata.context": context}
    if q.get("$count") == "true":  # Dataverse counts up to 5,000 and reports 5000 beyond that
        total = rows.count() if hasattr(rows, "count") and not isinstance(rows, list) else len(rows)
        body["@odata.count"] = min(total if top is None else min(total, top), 5000)
    body["value"] = [expand.apply(es, _shape(r, select_cols), r.data, expanding) for r in chunk]
    if more:
        params = {k: v for k, v in q.items() if k != "$skiptoken"}
        params["$skiptoken"] = str(end)
        body["@odata.nextLink"] = f"{_api_root(request)}{es.name}?{urlencode(params)}"
    response = JsonResponse(body)
    if requested:
        response["Preference-Applied"] = f"odata.maxpagesize={requested}"
    return response


def _body(request: HttpRequest):
    try:
        return json.loads(request.body or b"{}")
    except ValueError:
        raise DataverseError(400, "0x80040216", "The request body is not valid JSON.") from None


def _wants_representation(request: HttpRequest) -> bool:
    return "return=representation" in request.headers.get("Prefer", "")


def _written(request: HttpRequest, es: EntitySet, row: SandboxRecord, created: bool) -> HttpResponse:
    entity_url = f"{_api_root(request)}{es.name}({row.record_id})"
    if _wants_representation(request):
        response: HttpResponse = JsonResponse(_shape(row), status=201 if created else 200)
        response["Preference-Applied"] = "return=representation"
    else:
        response = HttpResponse(status=204)
    response["OData-EntityId"] = entity_url
    response["OData-Version"] = "4.0"
    return response


def _duplicate(es: EntitySet, value: str) -> DataverseError:
    return DataverseError(
        412,
        "0x80060892",
        f"A record that has the attribute values {es.alternate_key} = {value} already exists. "
        f"The entity key requires that this set of attributes contains unique values.",
    )


def _new_row(es: EntitySet, values: dict, record_id: str | None = None) -> SandboxRecord:
    record_id = (record_id or values.pop(es.key, None) or new_id()).lower()
    unique = keys.unique_key(es)
    alt = values.get(unique) if unique else None
    if alt and store.get_by_external_id(VENDOR, es.name, alt):
        raise _duplicate(es, alt)
    stamp = now_iso()
    data = {es.key: record_id, "statecode": 0, "statuscode": 1, **values, "createdon": stamp, "modifiedon": stamp}
    try:
        with transaction.atomic():
            return store.create(VENDOR, es.name, record_id, data, external_id=alt or None)
    except IntegrityError:  # the same key created concurrently
        raise _duplicate(es, alt or record_id)


def _create(request: HttpRequest, es: EntitySet) -> HttpResponse:
    values = apply_payload(es, _body(request), _resolve_lookup)
    actions.refuse_state_write(es.name, values)
    return _written(request, es, _new_row(es, values), True)


def _update_row(es: EntitySet, row: SandboxRecord, values: dict) -> SandboxRecord:
    values.pop(es.key, None)
    unique = keys.unique_key(es)
    alt = values.get(unique) if unique else None
    if alt and alt != row.external_id:
        if store.get_by_external_id(VENDOR, es.name, alt):
            raise _duplicate(es, alt)
        row.external_id = alt
        row.save(update_fields=["external_id"])
    return store.update(row, {**values, "modifiedon": now_iso()})


def _record(request: HttpRequest, es: EntitySet, key) -> HttpResponse:
    row = _find(es, key)
    if request.method == "GET":
        if row is None:
            raise _missing(es, key)
        select = odata.parse_select(request.GET.get("$select"))
        check_known(es, set(select or []))
        expanding = expand.parse(es, request.GET.get("$expand"))
        shaped = expand.apply(es, _shape(row, [es.key, *select] if select else None), row.data, expanding)
        return JsonResponse({"@odata.context": f"{_api_root(request)}$metadata#{es.name}/$entity", **shaped})
    if request.method == "DELETE":
        if row is None:
            raise _missing(es, key)
        row.delete()
        return HttpResponse(status=204)
    if request.method == "PATCH":
        return _patch(request, es, key, row)
    return HttpResponse(status=405)


def _patch(request: HttpRequest, es: EntitySet, key, row: SandboxRecord | None) -> HttpResponse:
    if_match, if_none = request.headers.get("If-Match"), request.headers.get("If-None-Match")
    request.sandbox_external_id = key.get(es.alternate_key, "") if isinstance(key, dict) else key
    if row is None and if_match:
        raise _missing(es, key)
    if row is not None and if_none == "*":
        raise DataverseError(412, "0x80040237", "A record with matching key values already exists.")
    if row is not None and if_match not in (None, "*") and if_match != f'W/"{row.version}"':
        raise DataverseError(
            412, "0x80060882", "The version of the existing record doesn't match the RowVersion property provided."
        )
    values = apply_payload(es, _body(request), _resolve_lookup)
    actions.refuse_state_write(es.name, values)
    if row is not None:
        return _written(request, es, _update_row(es, row, values), False)
    if isinstance(key, dict):
        values[es.alternate_key] = key[es.alternate_key]  # type: ignore[index]
    try:
        created = _new_row(es, dict(values), record_id=None if isinstance(key, dict) else key)
    except DataverseError as exc:
        raced = _find(es, key) if exc.code == "0x80060892" and if_none != "*" else None
        if raced is None:
            raise
        return _written(request, es, _update_row(es, raced, values), False)  # a concurrent upsert won
    return _written(request, es, created, True)


@sandbox_endpoint(HOOKS)
def entity_keys(request: HttpRequest, logical: str) -> HttpResponse:
    """`EntityDefinitions(LogicalName='<table>')/Keys`: the alternate keys defined."""
    found = keys.key_metadata(logical)
    if found is None:
        return _error(DataverseError(404, "0x80040217", f"Could not find an entity with name {logical}."))
    context = f"{_api_root(request)}$metadata#EntityDefinitions('{logical}')/Keys"
    return JsonResponse({"@odata.context": context, "value": found})


@sandbox_endpoint(HOOKS)
def win_opportunity(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        actions.win_opportunity(_body(request))
    except DataverseError as exc:
        return _error(exc)
    return HttpResponse(status=204)


@sandbox_endpoint(HOOKS)
def batch_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        items = batch.parse(request.headers.get("Content-Type", ""), request.body)
    except DataverseError as exc:
        return _error(exc)
    prefix = f"/sandbox/{VENDOR}/{API}/"

    def run(sub: HttpRequest) -> HttpResponse:
        if not sub.path.startswith(prefix):
            return _error(DataverseError(400, "0x80048d19", f"The URL {sub.path} is not in this service."))
        segment = sub.path[len(prefix) :]
        if segment == "WinOpportunity":
            try:
                actions.win_opportunity(_body(sub))
            except DataverseError as exc:
                return _error(exc)
            return HttpResponse(status=204)
        return _dispatch(sub, segment)

    return batch.render(batch.execute(request, items, run))
