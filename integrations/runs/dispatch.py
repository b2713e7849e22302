"""Periodic safety nets (docs/RELIABILITY.md §2): the dispatcher enqueues due runs whose
doorbell was lost or whose backoff has elapsed; the sweeper returns runs whose lease
expired (a worker died) to the queue, and after 3 worker losses opens a `worker_lost`
exception instead, so a poison record cannot loop."""

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations import leases
from integrations.runs import doorbell
from integrations.runs.choices import Classification, RunStatus
from integrations.runs.inbox.opening import open_exception
from integrations.runs.models import Run

CHUNK = 500


def dispatch_due(now=None) -> int:
    """Enqueue queued runs that are due and not enqueued in the last minute."""
    now = now or timezone.now()
    due = Run.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        Q(enqueued_at__isnull=True)
        | Q(enqueued_at__lt=now - timedelta(seconds=leases.redispatch_seconds()))
        | Q(enqueued_at__lt=F("next_attempt_at")),
        status=RunStatus.QUEUED,
    ).order_by("next_attempt_at", "id")
    ids = list(due.values_list("id", flat=True)[:CHUNK])
    doorbell.enqueue_runs(ids, force=True)
    return len(ids)


def sweep_expired(now=None) -> int:
    """Runs stuck in `running` past their lease: back to the queue, or an exception at the cap."""
    now = now or timezone.now()
    swept = 0
    for run in Run.objects.filter(status=RunStatus.RUNNING, lease_until__lt=now)[:CHUNK]:
        swept += _recover(run, now)
    return swept


def _recover(run: Run, now) -> int:
    expired = Q(pk=run.pk, fence=run.fence, status=RunStatus.RUNNING, lease_until__lt=now)
    with transaction.atomic():
        if run.worker_losses + 1 >= leases.MAX_WORKER_LOSSES:
            error = {
                "kind": "worker_lost",
                "message": f"the worker running this run was lost {leases.MAX_WORKER_LOSSES} times",
                "classification": Classification.WORKER_LOST,
                "step_id": run.start_at,
            }
            if not Run.objects.filter(expired).update(
                status=RunStatus.FAILED,
                worker_losses=F("worker_losses") + 1,
                lease_until=None,
                finished_at=now,
                error=error,
            ):
                return 0
            run.refresh_from_db()
            open_exception(
                run,
                step_id=run.start_at,
                classification=Classification.WORKER_LOST,
                kind="worker_lost",
                message=error["message"],
                original_input=run.record,
            )
            return 1
        return Run.objects.filter(expired).update(
            status=RunStatus.QUEUED,
            worker_losses=F("worker_losses") + 1,
            lease_until=None,
            next_attempt_at=timezone.now(),
            enqueued_at=None,
        )
