"""Thin Celery wrappers: ids in, one call. Retries live in the database (`next_attempt_at`
+ the dispatcher), never in Celery countdowns. This module sits on top of the app: the code
below it rings these tasks by name (doorbell.py), so nothing imports it back."""

from celery import shared_task

from integrations import backoff, leases
from integrations.runs import dispatch, doorbell, services
from integrations.runs.batch import chunks, collect
from integrations.runs.inbox import bulk
from integrations.runs.models import Run, RunChunk


def _redelivered(request) -> bool:
    return bool((request.delivery_info or {}).get("redelivered"))


def _ring_released(held: leases.Holding) -> None:
    """Runs and chunks given back by a stopping worker are due now: enqueued at once rather
    than at the dispatcher's next pass. (After a database error they are due after a backoff:
    the dispatcher sends them then.)"""
    if held.released and not held.database_error:
        doorbell.enqueue_runs(held.released_ids(Run))
        doorbell.enqueue_chunks(held.released_ids(RunChunk))


@shared_task(acks_late=True, bind=True)
def execute_run(self, run_id: int) -> None:
    with leases.holding(retry_at=backoff.next_attempt_at) as held:
        services.execute_run(run_id, redelivered=_redelivered(self.request), hostname=self.request.hostname or "")
    _ring_released(held)


@shared_task
def dispatch_due_runs() -> int:
    return dispatch.dispatch_due()


@shared_task
def sweep_expired_runs() -> int:
    return dispatch.sweep_expired()


@shared_task(acks_late=True)
def process_bulk_job(job_id: int) -> None:
    bulk.process_chunk(job_id)


@shared_task
def resume_stalled_bulk_jobs() -> int:
    return bulk.resume_stalled()


@shared_task
def flush_due_batches() -> int:
    return collect.flush_due()


@shared_task(acks_late=True, bind=True)
def execute_chunks(self, chunk_ids: list[int]) -> None:
    """Chunks of batch runs (ids only); each is claimed and fenced on its own."""
    with leases.holding(retry_at=backoff.next_attempt_at) as held:
        for chunk_id in chunk_ids:
            chunks.execute(chunk_id, redelivered=_redelivered(self.request), hostname=self.request.hostname or "")
    _ring_released(held)


@shared_task
def dispatch_due_chunks() -> int:
    return chunks.dispatch_due()


@shared_task
def sweep_expired_chunks() -> int:
    return chunks.sweep_expired()
