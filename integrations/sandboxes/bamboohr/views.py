"""BambooHR API views: List Employees (cursor paging), Get/Create/Update Employee, the
directory, changed-since, and webhook subscriptions."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.bamboohr import VENDOR, webhooks
from integrations.sandboxes.bamboohr.auth import HOOKS
from integrations.sandboxes.bamboohr.employees import (
    DIRECTORY_FIELDS,
    BambooError,
    clean,
    directory_view,
    get_view,
    list_view,
    now_iso,
)
from integrations.sandboxes.framework import sandbox_endpoint
from integrations.sandboxes.models import SandboxRecord

OBJECT = "employee"
MAX_LIMIT = 100


def _guarded(handler):
    def run(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return handler(request, *args, **kwargs)
        except BambooError as exc:
            if exc.message.startswith("{"):
                return HttpResponse(exc.message, status=exc.status, content_type="application/json")
            return HOOKS.error_response(exc.status, exc.message)

    return run


def _json(request: HttpRequest):
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        raise BambooError(400, "The posted JSON is malformed.")


def _bad_request(code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=400)


def _ordered():
    # Numeric ids in numeric order: the cursor is the last id of a page.
    return sorted(store.records(VENDOR, OBJECT), key=lambda r: int(r.record_id))


@sandbox_endpoint(HOOKS)
@_guarded
def employees(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _create(request)
    if request.method != "GET":
        return HttpResponse(status=405)
    q = request.GET
    try:
        limit = int(q.get("page[limit]", 50))
        after = int(q["page[after]"]) if q.get("page[after]") else None
    except ValueError:
        return _bad_request("BadPage", "The page cursor or limit is malformed.")
    if not 1 <= limit <= MAX_LIMIT:
        return _bad_request("BadRequest", f"page[limit] must be between 1 and {MAX_LIMIT}.")
    if q.get("sort") not in (None, "", "employeeId"):
        # The cursor is the last employeeId of a page, so this sandbox lists in that order only.
        return _bad_request("BadRequest", "This sandbox sorts List Employees by employeeId only.")
    status = q.get("filter[status]")
    if status not in (None, "active", "inactive"):
        return _bad_request("BadRequest", "filter[status] must be 'active' or 'inactive'.")
    ids = {i for i in q.get("filter[ids]", "").split(",") if i} | set(q.getlist("filter[ids][]"))
    rows = [
        r
        for r in _ordered()
        if (not status or r.data.get("status", "").lower() == status) and (not ids or r.record_id in ids)
    ]
    if after is not None:
        rows = [r for r in rows if int(r.record_id) > after]
    page, more = rows[:limit], len(rows) > limit
    optional = [f for f in q.get("fields", "").split(",") if f]
    total = len(
        [
            r
            for r in _ordered()
            if (not status or r.data.get("status", "").lower() == status) and (not ids or r.record_id in ids)
        ]
    )
    next_cursor = page[-1].record_id if more and page else None
    base = request.build_absolute_uri(request.path)
    params = {k: v for k, v in q.items() if k != "page[after]"}
    links = {"self": {"href": request.build_absolute_uri()}}
    if next_cursor:
        links["next"] = {"href": f"{base}?{urlencode({**params, 'page[after]': next_cursor})}"}
    return JsonResponse(
        {
            "data": [list_view(r, optional) for r in page],
            "meta": {
                "total": total,
                "page": {
                    "limit": limit,
                    "nextCursor": next_cursor,
                    "prevCursor": None if after is None else str(after),
                },
            },
            "_links": links,
        }
    )


def _create(request: HttpRequest) -> HttpResponse:
    values = clean(_json(request), creating=True)
    email = (values.get("workEmail") or "").lower() or None
    if email and store.get_by_external_id(VENDOR, OBJECT, email):
        raise BambooError(409, f"Invalid value for field 'workEmail': {values['workEmail']!r} is already in use.")
    stamp = now_iso()
    data = {"status": "Active", **values, "created": stamp, "lastChanged": stamp}
    record_id = _insert(data, email)
    request.sandbox_external_id = email or ""
    webhooks.deliver("employee.created", record_id)
    webhooks.deliver("employee.updated", record_id, [k for k, v in values.items() if v not in (None, "")])
    response = HttpResponse(status=201)
    response["Location"] = request.build_absolute_uri(f"/sandbox/{VENDOR}/api/v1/employees/{record_id}")
    return response


def _insert(data: dict, email: str | None) -> str:
    for _attempt in range(5):  # concurrent creates may race for the next id
        record_id = str(store.next_number(VENDOR, OBJECT, 100))
        try:
            with transaction.atomic():
                store.create(VENDOR, OBJECT, record_id, data, external_id=email)
            return record_id
        except IntegrityError:
            if email and store.get_by_external_id(VENDOR, OBJECT, email):
                raise BambooError(409, f"Invalid value for field 'workEmail': {email!r} is already in use.")
    raise BambooError(503, "The employee could not be saved; try again.")


def _row(employee_id) -> SandboxRecord:
    # Employee 0 is "the employee the API key belongs to": the sandbox key is the first employee's.
    row = _ordered()[0] if str(employee_id) == "0" and _ordered() else store.get(VENDOR, OBJECT, str(employee_id))
    if row is None:
        raise BambooError(404, f"Employee {employee_id} does not exist.")
    return row


@sandbox_endpoint(HOOKS)
@_guarded
def employee(request: HttpRequest, employee_id: str) -> HttpResponse:
    if request.method == "GET":
        fields = [f for f in request.GET.get("fields", "firstName,lastName").split(",") if f]
        if len(fields) > 400:
            raise BambooError(400, "The request exceeded the maximum number of allowed fields (400).")
        return JsonResponse(get_view(_row(employee_id), fields))
    if request.method != "POST":
        return HttpResponse(status=405)
    row = _row(employee_id)
    values = clean(_json(request), creating=False)
    email = (values.get("workEmail") or "").lower() or None
    if email and email != row.external_id:
        if store.get_by_external_id(VENDOR, OBJECT, email):
            raise BambooError(409, f"Invalid value for field 'workEmail': {values['workEmail']!r} is already in use.")
        row.external_id = email
        row.save(update_fields=["external_id"])
    changed = [k for k, v in values.items() if row.data.get(k) != v]
    store.update(row, {**values, "lastChanged": now_iso()} if changed else values)
    request.sandbox_external_id = row.external_id or ""
    webhooks.deliver("employee.updated", row.record_id, changed)
    return HttpResponse(status=200)


@sandbox_endpoint(HOOKS)
@_guarded
def directory(request: HttpRequest) -> HttpResponse:
    rows = [r for r in _ordered() if r.data.get("status") == "Active"]
    if not rows:
        return HttpResponse(status=404)
    return JsonResponse(
        {
            "fields": [{"id": fid, "type": kind, "name": name} for fid, kind, name in DIRECTORY_FIELDS],
            "employees": [directory_view(r) for r in rows],
        }
    )


@sandbox_endpoint(HOOKS)
@_guarded
def changed(request: HttpRequest) -> HttpResponse:
    since_raw = request.GET.get("since", "")
    kind = request.GET.get("type", "all")
    try:
        since = datetime.fromisoformat(since_raw.replace("Z", "+00:00"))
    except ValueError:
        raise BambooError(400, "The since parameter is missing or is not a valid ISO 8601 date.")
    if kind not in ("inserted", "updated", "deleted", "all") or since.tzinfo is None:
        raise BambooError(400, "The type parameter is invalid or since has no time zone.")
    found = {}
    for row in _ordered():
        last = datetime.fromisoformat(row.data["lastChanged"])
        if last <= since:
            continue
        action = "Inserted" if datetime.fromisoformat(row.data["created"]) > since else "Updated"
        if kind in ("all", action.lower()):
            found[row.record_id] = {"id": row.record_id, "action": action, "lastChanged": row.data["lastChanged"]}
    latest = max((e["lastChanged"] for e in found.values()), default=since.isoformat())
    return JsonResponse({"latest": latest, "employees": found})


@sandbox_endpoint(HOOKS)
@_guarded
def webhook_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return JsonResponse(webhooks.subscribe(_json(request)), status=201)
    hooks = store.records(VENDOR, webhooks.OBJECT).order_by("id")
    keys = ("id", "name", "created", "lastSent", "url")
    return JsonResponse({"webhooks": [{k: h.data.get(k) for k in keys} for h in hooks]})


class _LogHooks(type(HOOKS)):
    """The webhook log endpoint's quirk: throttled calls get HTTP 200 with an error body."""

    def throttle_response(self, retry_after: int) -> HttpResponse:
        return JsonResponse({"error": {"code": 429, "message": "Over rate limit, please try again in 60 seconds"}})


@sandbox_endpoint(_LogHooks())
@_guarded
def webhook_log(request: HttpRequest, webhook_id: int) -> HttpResponse:
    hook = store.get(VENDOR, webhooks.OBJECT, str(webhook_id))
    if hook is None:
        return JsonResponse({"error": {"code": 404, "message": "Webhook Not Found"}}, status=404)
    sent = hook.data.get("lastSent")
    entries = (
        [
            {
                "webhookId": hook.record_id,
                "url": hook.data["url"],
                "lastAttempted": sent,
                "lastSuccess": sent,
                "statusCode": "200",
                "format": hook.data["format"],
                "employeeIds": [],
            }
        ]
        if sent
        else []
    )
    return JsonResponse(entries, safe=False)
