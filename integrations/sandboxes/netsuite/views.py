"""SuiteTalk REST views: record CRUD with `eid:` addressing and PUT upsert, asynchronous
writes (`Prefer: respond-async`, jobs named by `X-NetSuite-Idempotency-Key`), record lists
(ids only), SuiteQL (dates in the account's format), metadata catalog."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, Max
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import framework as fw
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.models import SandboxIdempotency, SandboxRecord
from integrations.sandboxes.netsuite import VENDOR, account, async_jobs, record_query, suiteql
from integrations.sandboxes.netsuite.auth import HOOKS
from integrations.sandboxes.netsuite.records import (
    TYPES,
    NetSuiteError,
    RecordType,
    columns,
    now_stamp,
    record_type,
    suiteql_row,
    validate,
)

REST = "/services/rest"


def _root(request: HttpRequest) -> str:
    return request.build_absolute_uri(f"/sandbox/{VENDOR}{REST}")


def _fail(exc: NetSuiteError) -> HttpResponse:
    response = HOOKS.error_response(exc.status, exc.detail, exc.code)
    if exc.extra:
        body = json.loads(response.content)
        body["o:errorDetails"][0].update(exc.extra)
        response.content = json.dumps(body).encode()
    return response


def _body(request: HttpRequest):
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        raise NetSuiteError(400, "Invalid content in the request body: the JSON is malformed.", "INVALID_CONTENT")


def _exists(type_name: str, record_id: str) -> bool:
    return store.get(VENDOR, type_name, record_id) is not None


def _self_link(request: HttpRequest, rt: RecordType, record_id: str) -> list[dict]:
    return [{"rel": "self", "href": f"{_root(request)}/record/v1/{rt.name}/{record_id}"}]


@fw.sandbox_endpoint(HOOKS)
def metadata_catalog(request: HttpRequest) -> HttpResponse:
    items = [
        {"name": name, "links": [{"rel": "canonical", "href": f"{_root(request)}/record/v1/{name}"}]} for name in TYPES
    ]
    return JsonResponse({"items": items, "links": [{"rel": "self", "href": request.build_absolute_uri()}]})


def _guarded(handler):
    def run(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return handler(request, *args, **kwargs)
        except NetSuiteError as exc:
            return _fail(exc)
        except suiteql.SuiteQLError as exc:
            return _fail(NetSuiteError(400, str(exc), "INVALID_PARAMETER"))

    return run


def _asynchronous(handler):
    """`Prefer: respond-async` on a write: the request becomes a job (202 + `Location` of the
    job), and `X-NetSuite-Idempotency-Key` names it: a second request with the key is refused
    with 400 IDEMPOTENCY_ERROR and the first job's `Location`. A key on a synchronous request
    is ignored, as documented (the request simply runs again).
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/chapter_161251386312.html
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_164494900632.html
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_161278579295.html"""

    def run(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        wants_async = "respond-async" in request.headers.get("Prefer", "").lower()
        if request.method not in fw.WRITE_METHODS or not wants_async:
            return handler(request, *args, **kwargs)
        key = request.headers.get("X-NetSuite-Idempotency-Key", "")
        claim = None
        if key:
            try:
                with transaction.atomic():  # concurrent twins wait here on the unique key
                    claim = SandboxIdempotency.objects.create(
                        vendor=VENDOR, key=key, request_hash=fw.request_hash(request), response_status=0
                    )
            except IntegrityError:
                return _key_used(request, key)
        job = async_jobs.run(request, lambda: _guarded(handler)(request, *args, **kwargs))
        if claim is not None:
            claim.response_status = 202
            claim.response_body = job
            claim.save(update_fields=["response_status", "response_body"])
        response = HttpResponse(status=202)
        response["Location"] = async_jobs.location(job)
        response["Preference-Applied"] = "respond-async"
        return response

    return run


def _key_used(request: HttpRequest, key: str) -> HttpResponse:
    entry = fw.remembered(VENDOR, key)
    response = _fail(
        NetSuiteError(
            400,
            'A request with the same idempotency key is already submitted. See the "Location" header '
            "for a link to the previously submitted job.",
            "IDEMPOTENCY_ERROR",
        )
    )
    if entry is not None and entry.response_body:
        response["Location"] = async_jobs.location(entry.response_body)
    response["Preference-Applied"] = "respond-async"
    return response


@fw.sandbox_endpoint(HOOKS)
@_guarded
@_asynchronous
def collection(request: HttpRequest, record: str) -> HttpResponse:
    rt = record_type(record)
    if request.method == "GET":
        return _list(request, rt)
    if request.method != "POST":
        raise NetSuiteError(405, f"Method {request.method} is not allowed here.", "METHOD_NOT_ALLOWED")
    values = validate(rt, _body(request), creating=True, exists=_exists)
    request.sandbox_external_id = values.get("externalId") or ""
    row = _insert(rt, values)
    return _no_content(request, rt, row)


RECENT = 50  # rows looked at for the next internal id before the whole type is scanned


def _next_id(rt: RecordType, *, exact: bool = False) -> int:
    """Internal ids are numbers. Above the recently changed rows of the type (an index range:
    the last insert is among them), or, `exact`, above every row — a scan of the whole type,
    which made each of 10,000 time bills slower than the one before."""
    rows = store.records(VENDOR, rt.name)
    if not exact:
        recent = rows.order_by("-updated_at").values_list("record_id", flat=True)[:RECENT]
        numbers = [int(i) for i in recent if str(i).isdigit()]
        if numbers:
            return max(numbers) + 1
    top = rows.annotate(n=Cast("record_id", BigIntegerField())).aggregate(m=Max("n"))["m"]
    return (top or 100) + 1


def _duplicate() -> NetSuiteError:
    return NetSuiteError(400, "This record already exists.", "DUP_RCRD", **{"o:errorPath": "externalId"})


def _insert(rt: RecordType, values: dict) -> SandboxRecord:
    ext = values.get("externalId")
    if ext and store.get_by_external_id(VENDOR, rt.name, ext):
        raise _duplicate()
    stamp = now_stamp()
    for attempt in range(5):  # concurrent creates may race for the same id or external id
        record_id = str(_next_id(rt, exact=attempt > 0))
        data = {"id": record_id, **values, "dateCreated": stamp, "lastModifiedDate": stamp}
        try:
            with transaction.atomic():
                return store.create(VENDOR, rt.name, record_id, data, external_id=ext or None)
        except IntegrityError:
            if ext and store.get_by_external_id(VENDOR, rt.name, ext):
                raise _duplicate()
    raise NetSuiteError(503, "The record could not be saved; try again.", "UNEXPECTED_ERROR")


def _no_content(request: HttpRequest, rt: RecordType, row: SandboxRecord) -> HttpResponse:
    response = HttpResponse(status=204)
    # The record name as the client addressed it (`timebill` or `timeBill`).
    match = getattr(request, "resolver_match", None)
    name = match.kwargs.get("record", rt.name) if match is not None else rt.name
    response["Location"] = f"{_root(request)}/record/v1/{name}/{row.record_id}"
    return response


def _list(request: HttpRequest, rt: RecordType) -> HttpResponse:
    limit, offset = _paging(request, default=1000)
    try:
        predicate = record_query.parse(request.GET.get("q"), list(rt.fields))
    except record_query.RecordQueryError as exc:
        raise NetSuiteError(400, str(exc), "INVALID_PARAMETER", **{"o:errorQueryParam": "q"})
    records = store.records(VENDOR, rt.name).order_by("id")
    if request.GET.get("q"):
        rows = [r.record_id for r in records if predicate(r.data)]
    else:
        rows = list(records.values_list("record_id", flat=True))
    chunk = rows[offset : offset + limit]
    items = [{"links": _self_link(request, rt, rid), "id": rid} for rid in chunk]
    return JsonResponse(_envelope(request, items, len(rows), limit, offset))


def _paging(request: HttpRequest, default: int) -> tuple[int, int]:
    try:
        limit = int(request.GET.get("limit", default))
        offset = int(request.GET.get("offset", 0))
    except ValueError:
        raise NetSuiteError(400, "Invalid 'limit' or 'offset' parameter value.", "INVALID_PARAMETER")
    if not 1 <= limit <= 1000:
        raise NetSuiteError(
            400,
            f"Invalid 'limit' parameter value: {limit}. The value must be between 1 and 1000.",
            "INVALID_PARAMETER",
            **{"o:errorQueryParam": "limit"},
        )
    if offset < 0 or offset % limit:
        raise NetSuiteError(
            400,
            "The 'offset' parameter value must be a multiple of the 'limit' value.",
            "INVALID_PARAMETER",
            **{"o:errorQueryParam": "offset"},
        )
    return limit, offset


def _envelope(request: HttpRequest, items: list, total: int, limit: int, offset: int) -> dict:
    base = request.build_absolute_uri(request.path)

    def link(rel: str, at: int) -> dict:
        kept = {k: v for k, v in request.GET.items() if k not in ("limit", "offset")}
        return {"rel": rel, "href": f"{base}?{urlencode({**kept, 'limit': limit, 'offset': at})}"}

    links = [link("self", offset)]
    if offset > 0:
        links += [link("previous", max(0, offset - limit)), link("first", 0)]
    if offset + limit < total:
        links += [link("next", offset + limit), link("last", ((total - 1) // limit) * limit)]
    return {
        "links": links,
        "count": len(items),
        "hasMore": offset + limit < total,
        "offset": offset,
        "totalResults": total,
        "items": items,
    }


def _find(rt: RecordType, ident: str) -> SandboxRecord | None:
    if ident.startswith("eid:"):
        return store.get_by_external_id(VENDOR, rt.name, ident[4:])
    return store.get(VENDOR, rt.name, ident)


@fw.sandbox_endpoint(HOOKS)
@_guarded
@_asynchronous
def instance(request: HttpRequest, record: str, ident: str) -> HttpResponse:
    rt = record_type(record)
    row = _find(rt, ident)
    request.sandbox_external_id = ident[4:] if ident.startswith("eid:") else ""
    if request.method == "PUT":
        return _put(request, rt, ident, row)
    if row is None:
        raise NetSuiteError(
            404,
            "The record instance does not exist. Provide a valid record instance ID.",
            "NONEXISTENT_ID",
            **{"o:errorPath": ident},
        )
    if request.method == "GET":
        fields = [f for f in request.GET.get("fields", "").split(",") if f]
        data = {k: v for k, v in row.data.items() if not fields or k in fields or k == "id"}
        return JsonResponse({"links": _self_link(request, rt, row.record_id), **data})
    if request.method == "PATCH":
        values = validate(rt, _body(request), creating=False, exists=_exists)
        _update(rt, row, values)
        return _no_content(request, rt, row)
    if request.method == "DELETE":
        row.delete()
        return HttpResponse(status=204)
    raise NetSuiteError(405, f"Method {request.method} is not allowed here.", "METHOD_NOT_ALLOWED")


def _update(rt: RecordType, row: SandboxRecord, values: dict) -> None:
    ext = values.get("externalId")
    if ext and ext != row.external_id:
        if store.get_by_external_id(VENDOR, rt.name, ext):
            raise _duplicate()
        row.external_id = ext
        row.save(update_fields=["external_id"])
    store.update(row, {**values, "lastModifiedDate": now_stamp()})


def _put(request: HttpRequest, rt: RecordType, ident: str, row: SandboxRecord | None) -> HttpResponse:
    """Upsert: only records addressed by external id (`eid:`) may be PUT."""
    if not ident.startswith("eid:"):
        raise NetSuiteError(
            400, "PUT is supported only for records addressed by external ID (eid:).", "INVALID_REQUEST"
        )
    body = _body(request)
    if isinstance(body, dict) and body.get("externalId") not in (None, ident[4:]):
        raise NetSuiteError(400, "The externalId in the body does not match the one in the URL.", "INVALID_VALUE")
    values = validate(rt, body, creating=row is None, exists=_exists)
    if row is None:
        try:
            row = _insert(rt, {**values, "externalId": ident[4:]})
            return _no_content(request, rt, row)
        except NetSuiteError as exc:
            if exc.code != "DUP_RCRD":
                raise
            row = _find(rt, ident)  # created concurrently by another request: update it instead
    _update(rt, row, values)
    return _no_content(request, rt, row)


def _table(name: str) -> RecordType:
    for rt in TYPES.values():
        if rt.table == name:
            return rt
    raise suiteql.SuiteQLError(f"Invalid search query. Search error occurred: Record '{name}' was not found.")


@fw.sandbox_endpoint(HOOKS, write=False)
@_guarded
def suiteql_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        raise NetSuiteError(405, "Use POST for SuiteQL queries.", "METHOD_NOT_ALLOWED")
    if "transient" not in request.headers.get("Prefer", ""):
        raise NetSuiteError(
            400,
            "The request header 'Prefer: transient' is required for SuiteQL.",
            "INVALID_HEADER",
            **{"o:errorHeader": "Prefer"},
        )
    body = _body(request)
    query = suiteql.parse(body.get("q", "") if isinstance(body, dict) else "")
    rt = _table(query.table)
    unknown = sorted(query.referenced() - columns(rt))
    if unknown:
        raise suiteql.SuiteQLError(
            f"Invalid search query. Search error occurred: Field '{unknown[0]}' for record "
            f"'{query.table}' was not found."
        )
    limit, offset = _paging(request, default=1000)
    fast = _database_query(rt, query)
    if fast is not None:
        total = fast.count()
        page = [suiteql_row(rt, r.data) for r in fast[offset : offset + limit]]
    else:
        rows = [suiteql_row(rt, r.data) for r in store.records(VENDOR, rt.name).order_by("id")]
        rows = [r for r in rows if query.matches(r)]
        if query.order:
            col, desc = query.order
            rows.sort(key=lambda r: _sort_key(r.get(col)), reverse=desc)
        total, page = len(rows), rows[offset : offset + limit]
    render = _renderer(rt)
    items = [{"links": [], **query.project(r, render, account.to_char)} for r in page]
    return JsonResponse(_envelope(request, items, total, limit, offset))


def _renderer(rt: RecordType):
    """Dates as the account's date preference writes them (SuiteQL does not answer ISO)."""
    kinds = {name.lower(): kind for name, kind in rt.fields.items()}
    stamps = {"lastmodifieddate", "datecreated"}
    fmt = account.date_format()  # once per answer, not once per value

    def render(column: str, value):
        if column in stamps:
            return account.present(value, with_time=True, fmt=fmt)
        if kinds.get(column) == "date":
            return account.present(value, with_time=False, fmt=fmt)
        return value

    return render


_SQL_LOOKUPS = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


def _database_query(rt: RecordType, query: suiteql.Query):
    """The query as a database filter when it is a conjunction of range comparisons on
    plain columns, ordered by id (what pollers send); None means evaluate in Python."""
    if "or" in query.joins or (query.order and query.order[0] != "id"):
        return None
    names = {name.lower(): name for name in rt.fields}
    qs = store.records(VENDOR, rt.name)
    for col, op, value in query.conditions:
        if col == "type" and rt.table == "transaction" and op == "=" and value == "CustInvc":
            continue  # every transaction the sandbox holds is an invoice
        field = names.get(col)
        if field is None or op not in _SQL_LOOKUPS or rt.fields[field] not in ("string", "date", "number"):
            return None
        qs = qs.filter(**{f"data__{field}__{_SQL_LOOKUPS[op]}": value})
    order = "-n" if query.order and query.order[1] else "n"
    return qs.annotate(n=Cast("record_id", BigIntegerField())).order_by(order)


def _sort_key(value) -> tuple:
    """Numeric ids sort as numbers, as NetSuite's internal ids do."""
    text = "" if value is None else str(value)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _no_job(job_id: str) -> HttpResponse:
    return _fail(NetSuiteError(404, f"The async job {job_id} does not exist.", "NONEXISTENT_ID"))


@fw.sandbox_endpoint(HOOKS, write=False)
def async_job(request: HttpRequest, job: str) -> HttpResponse:
    return async_jobs.job_status(request, job) or _no_job(job)


@fw.sandbox_endpoint(HOOKS, write=False)
def async_tasks(request: HttpRequest, job: str) -> HttpResponse:
    return async_jobs.tasks(request, job) or _no_job(job)


@fw.sandbox_endpoint(HOOKS, write=False)
def async_task(request: HttpRequest, job: str, task: str) -> HttpResponse:
    return async_jobs.task(request, job, task) or _no_job(job)


@fw.sandbox_endpoint(HOOKS, write=False)
def async_result(request: HttpRequest, job: str, task: str) -> HttpResponse:
    return async_jobs.result(job, task) or _no_job(job)
