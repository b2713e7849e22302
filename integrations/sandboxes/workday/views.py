"""Workday views: REST workers (`limit`/`offset` with `total`), the RaaS worker-sync report,
and Workday's 404 for any other REST resource (time blocks live in `time_blocks.py`)."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.framework import sandbox_endpoint
from integrations.sandboxes.models import SandboxRecord
from integrations.sandboxes.workday import REPORT_NAME, REPORT_OWNER, TENANT, VENDOR
from integrations.sandboxes.workday.auth import HOOKS
from integrations.sandboxes.workday.rest import WorkdayError, guarded, paging

INTERNAL = ("lastUpdated", "costCenter", "managerName")


def _worker(request: HttpRequest, row: SandboxRecord) -> dict:
    href = request.build_absolute_uri(f"/sandbox/{VENDOR}/ccx/api/v1/{TENANT}/workers/{row.record_id}")
    return {k: v for k, v in row.data.items() if k not in INTERNAL} | {"href": href}


@sandbox_endpoint(HOOKS)
@guarded
def workers(request: HttpRequest, tenant: str) -> HttpResponse:
    limit, offset = paging(request)
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
@guarded
def worker(request: HttpRequest, tenant: str, worker_id: str) -> HttpResponse:
    row = store.get(VENDOR, "workers", worker_id)
    if row is None:
        raise WorkdayError(404, f"invalid resource ID: {worker_id} is not a valid worker")
    return JsonResponse(_worker(request, row))


_PROMPT_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$")


@sandbox_endpoint(HOOKS)
@guarded
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


@sandbox_endpoint(HOOKS)
@guarded
def unknown_resource(request: HttpRequest, rest: str) -> HttpResponse:
    """A REST path no service of the tenant serves (e.g. the retired, invented
    `timeTracking/v5/<tenant>/timeBlocks`): 404, as for an unknown resource."""
    raise WorkdayError(404, f"invalid request: resource {rest} not found")
