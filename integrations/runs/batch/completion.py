"""The two "exactly once" moments of a batch run, each a conditional UPDATE with one winner:
all its chunks are done (the run is queued again to finish), and none of its deliveries is
outstanding any more (the run gets its final status)."""

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from integrations.deliveries.models import Delivery
from integrations.runs import doorbell
from integrations.runs.choices import ChunkStatus, RunStatus
from integrations.runs.inbox.opening import resolve_after_successful_retry
from integrations.runs.models import Run, RunChunk

TERMINAL = (ChunkStatus.DONE, ChunkStatus.FAILED, ChunkStatus.SPLIT)
NOT_DONE = ("PENDING", "IN_FLIGHT", "FAILED_RETRYABLE")  # delivery states still outstanding


def complete_if_done(run_id: int) -> bool:
    """All chunks terminal → the run is queued again to finish (groups, deliveries), exactly
    once: the conditional update on `waiting-chunks` has one winner (docs/RELIABILITY.md §9)."""
    unfinished = RunChunk.objects.filter(run_id=OuterRef("pk")).exclude(status__in=TERMINAL)
    won = (
        Run.objects.filter(pk=run_id, status=RunStatus.WAITING_CHUNKS)
        .exclude(Exists(unfinished))
        .update(status=RunStatus.QUEUED, next_attempt_at=timezone.now(), attempts=0, enqueued_at=None)
    )
    if won:
        doorbell.enqueue_runs_on_commit([run_id])
    return bool(won)


def finish_if_delivered(run_id: int) -> bool:
    """Once no delivery of the run is outstanding: the final status, exactly once."""
    pending = Delivery.objects.filter(run_id=OuterRef("pk"), state__in=NOT_DONE)
    now = timezone.now()
    with transaction.atomic():
        won = (
            Run.objects.filter(pk=run_id, status=RunStatus.WAITING_DELIVERY)
            .exclude(Exists(pending))
            .update(status=RunStatus.SUCCEEDED, finished_at=now, lease_until=None)
        )
        if not won:
            return False
        run = Run.objects.select_related("flow_version__flow").get(pk=run_id)
        counts = Delivery.objects.filter(run_id=run_id).aggregate(
            total=Count("pk"), dead=Count("pk", filter=Q(state="DEAD"))
        )
        output = {**(run.output or {}), "deliveries": counts["total"], "deliveries_dead": counts["dead"]}
        failed = output.get("failed") or output.get("groups_failed") or counts["dead"]
        run.status = RunStatus.FAILED if failed else RunStatus.SUCCEEDED
        Run.objects.filter(pk=run_id).update(status=run.status, output=output)
        if not failed:
            resolve_after_successful_retry(run)
    return True
