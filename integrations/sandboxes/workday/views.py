"""Workday views: REST workers (`limit`/`offset` with `total`), Time Tracking time blocks
(create, read, update, look-up by `externalReferenceID`), and the RaaS worker-sync report."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.framework import sandbox_endpoint
from integrations.sandboxes.models import SandboxRecord
from integrations.sandboxes.workday import REPORT_NAME, REPORT_OWNER, TENANT, VENDOR
from integrations.sandboxes.workday.auth import HOOKS, error_body

INTERNAL = ("lastUpdated", "costCenter", "managerName")
BLOCK_FIELDS = {"worker", "date", "quantity", "timeEntryCode", "comment", "externalReferenceID", "project"}
ENTRY_CODES = {"billable": "Billable Hours", "nonbillable": "Non-Billable Hours", "regular": "Regular Hours"}


class WorkdayError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def _guarded(handler):
    def run(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if kwargs.get("tenant", TENANT) != TENANT:
            return JsonResponse(error_body(f"invalid tenant: {kwargs['tenant']}"), status=404)
        try:
            return handler(request, *args, **kwargs)
        except WorkdayError as exc:
            return JsonResponse(error_body(exc.message, exc.field), status=exc.status)

    return run


def _paging(request: HttpRequest) -> tuple[int, int]:
    try:
        limit, offset = int(request.GET.get("limit", 20)), int(request.GET.get("offset", 0))
    except ValueError:
        raise WorkdayError(400, "invalid request: limit and offset must be integers", "limit")
    if not 1 <= limit <= 100:
        raise WorkdayError(400, "invalid request: limit must be between 1 and 100", "limit")
    if offset < 0:
        raise WorkdayError(400, "invalid request: offset must not be negative", "offset")
    return limit, offset


def _worker(request: HttpRequest, row: SandboxRecord) -> dict:
    href = request.build_absolute_uri(f"/sandbox/{VENDOR}/ccx/api/v1/{TENANT}/workers/{row.record_id}")
    return {k: v for k, v in row.data.items() if k not in INTERNAL} | {"href": href}


@sandbox_endpoint(HOOKS)
@_guarded
def workers(request: HttpRequest, tenant: str) -> HttpResponse:
    limit, offset = _paging(request)
    rows = store.records(VENDOR, "workers").order_by("id")
    search = request.GET.get("search", "").strip().lower()
    if search:
        rows = [
            r
            for r in rows
            if search in r.data["descriptor"].lower()
            or search == r.data["workerId"]
            or search == (r.data.get("primaryWorkEmail") or "").lower()
        ]
    rows = list(rows)
    return JsonResponse({"total": len(rows), "data": [_worker(request, r) for r in rows[offset : offset + limit]]})


@sandbox_endpoint(HOOKS)
@_guarded
def worker(request: HttpRequest, tenant: str, worker_id: str) -> HttpResponse:
    row = store.get(VENDOR, "workers", worker_id)
    if row is None:
        raise WorkdayError(404, f"invalid resource ID: {worker_id} is not a valid worker")
    return JsonResponse(_worker(request, row))


def _block_body(request: HttpRequest, *, creating: bool) -> dict:
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise WorkdayError(400, "invalid request: the body is not valid JSON")
    if not isinstance(body, dict):
        raise WorkdayError(400, "invalid request: the body must be a JSON object")
    for name in body:
        if name not in BLOCK_FIELDS:
            raise WorkdayError(400, f"invalid request: unknown field {name}", name)
    if creating:
        for name in ("worker", "date", "quantity", "timeEntryCode"):
            if body.get(name) in (None, "", {}):
                raise WorkdayError(400, f"Validation error occurred. {name} is required", name)
    _check_block(body)
    return body


def _check_block(body: dict) -> None:
    worker_ref = body.get("worker")
    if worker_ref is not None:
        worker_id = worker_ref.get("id") if isinstance(worker_ref, dict) else None
        if not worker_id or store.get(VENDOR, "workers", worker_id) is None:
            raise WorkdayError(
                400,
                f"Validation error occurred. Invalid ID value. '{worker_id}' is not a valid ID value for type = WID",
                "worker",
            )
    if "date" in body:
        try:
            date.fromisoformat(str(body["date"]))
        except ValueError:
            raise WorkdayError(400, f"Validation error occurred. '{body['date']}' is not a valid date", "date")
    quantity = body.get("quantity")
    if quantity is not None and (
        isinstance(quantity, bool) or not isinstance(quantity, int | float) or not 0 < quantity <= 24
    ):
        raise WorkdayError(
            400, "Validation error occurred. The quantity must be greater than 0 and no more than 24 hours.", "quantity"
        )
    code = body.get("timeEntryCode")
    if code is not None and (not isinstance(code, dict) or code.get("id") not in ENTRY_CODES):
        raise WorkdayError(
            400, "Validation error occurred. Invalid ID value for type = Time_Entry_Code_ID", "timeEntryCode"
        )


def _block(request: HttpRequest, row: SandboxRecord) -> dict:
    href = request.build_absolute_uri(f"/sandbox/{VENDOR}/ccx/api/timeTracking/v5/{TENANT}/timeBlocks/{row.record_id}")
    return {**row.data, "href": href}


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _insert_block(record_id: str, data: dict, reference: str | None) -> SandboxRecord:
    """Reference IDs are unique per type in Workday: a second block with one is refused."""
    if reference and store.get_by_external_id(VENDOR, "timeBlocks", reference):
        raise WorkdayError(
            400, f"Validation error occurred. The Reference ID '{reference}' is already in use.", "externalReferenceID"
        )
    try:
        with transaction.atomic():
            return store.create(VENDOR, "timeBlocks", record_id, data, external_id=reference)
    except IntegrityError:  # the same reference posted concurrently
        raise WorkdayError(
            400, f"Validation error occurred. The Reference ID '{reference}' is already in use.", "externalReferenceID"
        )


@sandbox_endpoint(HOOKS)
@_guarded
def time_blocks(request: HttpRequest, tenant: str) -> HttpResponse:
    if request.method == "POST":
        body = _block_body(request, creating=True)
        code = body["timeEntryCode"]["id"]
        record_id = uuid.uuid4().hex  # a WID: 32 hex characters
        data = {
            "id": record_id,
            "descriptor": f"{body['quantity']} Hours - {body['date']}",
            "status": "Submitted",
            **body,
            "timeEntryCode": {"id": code, "descriptor": ENTRY_CODES[code]},
            "lastUpdated": _stamp(),
        }
        request.sandbox_external_id = body.get("externalReferenceID") or ""
        row = _insert_block(record_id, data, body.get("externalReferenceID") or None)
        return JsonResponse(_block(request, row), status=201)
    limit, offset = _paging(request)
    rows = store.records(VENDOR, "timeBlocks").order_by("id")
    if request.GET.get("externalReferenceID"):
        rows = rows.filter(external_id=request.GET["externalReferenceID"])
    rows = list(rows)
    return JsonResponse({"total": len(rows), "data": [_block(request, r) for r in rows[offset : offset + limit]]})


@sandbox_endpoint(HOOKS)
@_guarded
def time_block(request: HttpRequest, tenant: str, block_id: str) -> HttpResponse:
    row = store.get(VENDOR, "timeBlocks", block_id)
    if row is None:
        raise WorkdayError(404, f"invalid resource ID: {block_id} is not a valid time block")
    if request.method == "PATCH":
        body = _block_body(request, creating=False)
        if body.get("externalReferenceID") not in (None, row.external_id):
            raise WorkdayError(
                400, "Validation error occurred. externalReferenceID cannot change", "externalReferenceID"
            )
        if "timeEntryCode" in body:
            body["timeEntryCode"] = {
                "id": body["timeEntryCode"]["id"],
                "descriptor": ENTRY_CODES[body["timeEntryCode"]["id"]],
            }
        store.update(row, {**body, "lastUpdated": _stamp()})
    return JsonResponse(_block(request, row))


_PROMPT_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$")


@sandbox_endpoint(HOOKS)
@_guarded
def report(request: HttpRequest, tenant: str, owner: str, name: str) -> HttpResponse:
    if owner != REPORT_OWNER or name != REPORT_NAME:
        raise WorkdayError(404, f"invalid request: report {owner}/{name} not found")
    if request.GET.get("format", "simplexml") != "json":
        raise WorkdayError(400, "invalid request: this sandbox serves format=json only", "format")
    updated_from = request.GET.get("Updated_From", "")
    if updated_from and not _PROMPT_DATE.match(updated_from):
        raise WorkdayError(400, f"invalid prompt value for Updated_From: {updated_from}", "Updated_From")
    entries = []
    for row in store.records(VENDOR, "workers").order_by("id"):
        d = row.data
        if updated_from and d["lastUpdated"] <= updated_from:
            continue
        entries.append(
            {
                "Employee_ID": d["workerId"],
                "Worker_WID": d["id"],
                "Legal_Name": d["descriptor"],
                "Email_-_Work": d["primaryWorkEmail"],
                "Business_Title": d["businessTitle"],
                "Cost_Center": d["costCenter"],
                "Manager": d["managerName"],
                "Location": d["location"]["descriptor"],
                "Hire_Date": d["hireDate"],
                "Worker_Status": "Terminated" if d["terminationDate"] else "Active",
                "Last_Updated": d["lastUpdated"],
            }
        )
    return JsonResponse({"Report_Entry": entries})
