"""A flow's backlog: its runs the workers have not finished yet. Polls stop feeding a flow
whose backlog is full (polls.py), and pages and the API show it per flow."""

from django.db.models import Count

from integrations.runs.choices import RunStatus
from integrations.runs.models import Run

# Work the machine still has to do; a run waiting for a person (an approval) is not backlog.
UNFINISHED = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING_DELIVERY, RunStatus.WAITING_CHUNKS)


def unfinished_runs(flow_id: int) -> int:
    return Run.objects.filter(flow_version__flow_id=flow_id, status__in=UNFINISHED).count()


def by_flow(flow_ids=None) -> dict[int, dict[str, int]]:
    """{flow id: {"queued": n, "in_progress": m}} for flows with a backlog (all, or those given):
    queued runs wait for a worker; in progress ones are running or waiting for deliveries or chunks."""
    runs = Run.objects.filter(status__in=UNFINISHED)
    if flow_ids is not None:
        runs = runs.filter(flow_version__flow_id__in=list(flow_ids))
    result: dict[int, dict[str, int]] = {}
    rows = runs.values_list("flow_version__flow_id", "status").annotate(n=Count("id")).order_by()
    for flow_id, status, n in rows:
        counts = result.setdefault(flow_id, {"queued": 0, "in_progress": 0})
        counts["queued" if status == RunStatus.QUEUED else "in_progress"] += n
    return result
