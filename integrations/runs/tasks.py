"""Thin Celery wrappers: ids in, one call. Retries live in the database (`next_attempt_at`
+ the dispatcher), never in Celery countdowns. This module sits on top of the app: the code
below it rings these tasks by name (doorbell.py), so nothing imports it back."""

from celery import shared_task

from integrations.runs import dispatch, services
from integrations.runs.batch import chunks, collect
from integrations.runs.inbox import bulk


@shared_task(acks_late=True)
def execute_run(run_id: int) -> None:
    services.execute_run(run_id)


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


@shared_task(acks_late=True)
def execute_chunks(chunk_ids: list[int]) -> None:
    """Chunks of batch runs (ids only); each is claimed and fenced on its own."""
    for chunk_id in chunk_ids:
        chunks.execute(chunk_id)


@shared_task
def dispatch_due_chunks() -> int:
    return chunks.dispatch_due()


@shared_task
def sweep_expired_chunks() -> int:
    return chunks.sweep_expired()
