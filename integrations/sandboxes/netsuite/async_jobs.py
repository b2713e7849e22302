"""Asynchronous REST requests: the job a `Prefer: respond-async` write becomes, and the
async service that reports it (`/services/rest/async/v1/job/<id>`, its task, the result).

Oracle documents the job (`completed`, `progress`, a `task` link), the task (`completed`,
`progress`, `startTime`/`endTime`, a `related` link to `result`) and the result (the
answer of the executed request):
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_161278579295.html
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_161252896355.html
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_161252889998.html
The sandbox runs the request when it is submitted and answers the job's first status
poll with `pending`, the next ones with the outcome, so a client has to poll as it would
against NetSuite. For a write the result is the write's own answer (204 + `Location`, or
the error body) [result of a create: unverified].
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.netsuite import VENDOR
from integrations.sandboxes.netsuite.records import now_stamp

JOBS = "asyncJob"
PREFIX = "/services/rest/async/v1/job"


class _Failed(Exception):
    def __init__(self, response: HttpResponse):
        self.response = response


def location(job_id: str) -> str:
    """Relative to the account's REST host, as in Oracle's examples."""
    return f"{PREFIX}/{job_id}"


def run(request: HttpRequest, call: Callable[[], HttpResponse]) -> str:
    """Run the request now (a failure writes nothing) and keep its answer as the job's result."""
    started = now_stamp()
    try:
        with transaction.atomic():
            response = call()
            if response.status_code >= 400:
                raise _Failed(response)
    except _Failed as failed:
        response = failed.response
    headers = {k: v for k, v in response.items() if k.lower() in ("location", "content-type")}
    data = {
        "status": response.status_code,
        "body": response.content.decode("utf-8", "replace"),
        "headers": headers,
        "startTime": started,
        "endTime": now_stamp(),
        "polls": 0,
        "method": request.method,
        "path": request.path,
    }
    for _attempt in range(5):  # concurrent jobs may race for the same number
        job_id = str(store.next_number(VENDOR, JOBS, start=0))
        try:
            with transaction.atomic():
                store.create(VENDOR, JOBS, job_id, data)
            return job_id
        except IntegrityError:
            continue
    raise RuntimeError("no free async job id")


def _job(job_id: str):
    return store.get(VENDOR, JOBS, job_id)


def _progress(data: dict) -> str:
    return "succeeded" if data["status"] < 400 else "failed"


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri(f"/sandbox/{VENDOR}{PREFIX}")


def job_status(request: HttpRequest, job_id: str) -> HttpResponse | None:
    row = _job(job_id)
    if row is None:
        return None
    first_poll = row.data.get("polls", 0) == 0
    store.update(row, {"polls": row.data.get("polls", 0) + 1})
    href = f"{_base(request)}/{job_id}"
    body = {
        "links": [{"rel": "self", "href": href}],
        "completed": not first_poll,
        "id": job_id,
        "progress": "pending" if first_poll else _progress(row.data),
        "task": {"links": [{"rel": "self", "href": f"{href}/task"}]},
    }
    return JsonResponse(body)


def tasks(request: HttpRequest, job_id: str) -> HttpResponse | None:
    if _job(job_id) is None:
        return None
    href = f"{_base(request)}/{job_id}/task"
    items = [{"links": [{"rel": "self", "href": f"{href}/{job_id}"}], "id": job_id}]
    return JsonResponse(
        {
            "links": [{"rel": "self", "href": href}],
            "count": 1,
            "hasMore": False,
            "items": items,
            "offset": 0,
            "totalResults": 1,
        }
    )


def task(request: HttpRequest, job_id: str, task_id: str) -> HttpResponse | None:
    row = _job(job_id)
    if row is None or task_id != job_id:
        return None
    href = f"{_base(request)}/{job_id}/task/{task_id}"
    return JsonResponse(
        {
            "links": [{"rel": "related", "href": f"{href}/result"}, {"rel": "self", "href": href}],
            "completed": True,
            "endTime": row.data["endTime"],
            "id": task_id,
            "progress": _progress(row.data),
            "startTime": row.data["startTime"],
        }
    )


def result(job_id: str, task_id: str) -> HttpResponse | None:
    row = _job(job_id)
    if row is None or task_id != job_id:
        return None
    response = HttpResponse(row.data["body"], status=row.data["status"])
    for key, value in row.data["headers"].items():
        response[key] = value
    return response
