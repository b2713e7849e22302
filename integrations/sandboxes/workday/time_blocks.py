"""Worker time blocks, on the resources of Workday's Time Tracking REST service (v5) that
docs/VENDORS_HR_ERP.md cites: create `POST …/workers/{ID}/workerTimeBlock`, change `PATCH
…/workers/{ID}/workerTimeBlock/{subresourceID}`, list `GET …/workerTimeBlocks` filtered by
Workday IDs (`worker`, `fromDate`/`toDate`, `status`, `phase`, `project`, `projectPlanTask`).
Workday keeps no external reference on a block and several blocks may share a worker, date
and code, so the sandbox does not make them unique either."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.framework import sandbox_endpoint
from integrations.sandboxes.models import SandboxRecord
from integrations.sandboxes.workday import TENANT, VENDOR, block_payload
from integrations.sandboxes.workday.auth import HOOKS
from integrations.sandboxes.workday.rest import WorkdayError, allow, guarded, paging

OBJECT = "workerTimeBlocks"
SUBMITTED = {"id": uuid.uuid5(uuid.NAMESPACE_URL, "workday:status:submitted").hex, "descriptor": "Submitted"}
# List filter → where the block holds that reference's id.
REFERENCE_FILTERS = {"worker": "worker", "status": "status", "project": "project",
                     "projectPlanTask": "projectPlanTask", "phase": "projectPlanPhase"}  # fmt: skip


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri(f"/sandbox/{VENDOR}/ccx/api/timeTracking/v5/{TENANT}")


def _shown(request: HttpRequest, row: SandboxRecord) -> dict:
    data = {k: v for k, v in row.data.items() if k != "lastUpdated"}
    return {**data, "href": f"{_base(request)}/{OBJECT}/{row.record_id}"}


def _worker(worker_id: str) -> dict:
    row = store.get(VENDOR, "workers", worker_id)
    if row is None:
        raise WorkdayError(404, f"invalid resource ID: {worker_id} is not a valid worker")
    return {"id": worker_id, "descriptor": row.data["descriptor"]}


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _descriptor(block: dict) -> str:
    amount = f"{block['reportedQuantity']} Hours" if block.get("reportedQuantity") is not None else "In/Out"
    return f"{amount} - {block['calendarDate']} - {block['timeEntryCode']['descriptor']}"


def block_key(block: dict) -> str:
    """Worker, date, code and project of a block: what the request log records as its
    reference, so a test can count the posts of one intended block."""
    project = (block.get("project") or {}).get("id", "")
    return f"{block['worker']['id']}|{block['calendarDate']}|{block['timeEntryCode']['id']}|{project}"


@sandbox_endpoint(HOOKS)
@guarded
def create(request: HttpRequest, tenant: str, worker_id: str) -> HttpResponse:
    allow(request, "POST")
    worker = _worker(worker_id)
    block = block_payload.complete(block_payload.checked(block_payload.parse(request), worker_id))
    record_id = uuid.uuid4().hex  # a WID: 32 hex characters
    data = {"id": record_id, "worker": worker, **block, "status": SUBMITTED, "lastUpdated": _stamp()}
    data["descriptor"] = _descriptor(data)
    request.sandbox_external_id = block_key(data)
    row = store.create(VENDOR, OBJECT, record_id, data)
    return JsonResponse(_shown(request, row), status=201)


@sandbox_endpoint(HOOKS)
@guarded
def change(request: HttpRequest, tenant: str, worker_id: str, block_id: str) -> HttpResponse:
    allow(request, "PATCH")
    _worker(worker_id)
    row = store.get(VENDOR, OBJECT, block_id)
    if row is None or row.data["worker"]["id"] != worker_id:
        raise WorkdayError(404, f"invalid resource ID: {block_id} is not a valid worker time block of {worker_id}")
    changes = block_payload.checked(block_payload.parse(request), worker_id)
    merged = block_payload.complete({**row.data, **changes})
    merged["descriptor"] = _descriptor(merged)
    request.sandbox_external_id = block_key(merged)
    store.update(row, {**merged, "lastUpdated": _stamp()})
    return JsonResponse(_shown(request, row))


def filtered(rows: QuerySet[SandboxRecord], request: HttpRequest) -> QuerySet[SandboxRecord]:
    """The documented list filters; each takes a Workday ID, dates are `YYYY-MM-DD`."""
    for param, field in REFERENCE_FILTERS.items():
        if request.GET.get(param):
            rows = rows.filter(**{f"data__{field}__id": request.GET[param]})
    for param, lookup in (("fromDate", "gte"), ("toDate", "lte")):
        value = request.GET.get(param)
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise WorkdayError(400, f"invalid request: '{value}' is not a valid date for {param}", param)
            rows = rows.filter(**{f"data__calendarDate__{lookup}": value})
    return rows


@sandbox_endpoint(HOOKS)
@guarded
def listing(request: HttpRequest, tenant: str) -> HttpResponse:
    allow(request, "GET")
    limit, offset = paging(request)
    rows = filtered(store.records(VENDOR, OBJECT), request).order_by("id")
    return JsonResponse({"total": rows.count(), "data": [_shown(request, r) for r in rows[offset : offset + limit]]})


@sandbox_endpoint(HOOKS)
@guarded
def single(request: HttpRequest, tenant: str, block_id: str) -> HttpResponse:
    allow(request, "GET")
    row = store.get(VENDOR, OBJECT, block_id)
    if row is None:
        raise WorkdayError(404, f"invalid resource ID: {block_id} is not a valid worker time block")
    return JsonResponse(_shown(request, row))
