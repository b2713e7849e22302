"""Thin Celery wrappers: ids in, one service call. Retries live in the database
(`next_attempt_at` + the dispatcher), never in Celery countdowns."""

from celery import shared_task


@shared_task(acks_late=True)
def execute_run(run_id: int) -> None:
    from integrations.runs.services import execute_run as run

    run(run_id)


@shared_task(acks_late=True)
def resume_run(run_id: int) -> None:
    """Called by the ledger's side too; the run must already be queued (see services.wake)."""
    from integrations.runs.services import execute_run as run

    run(run_id)


@shared_task
def dispatch_due_runs() -> int:
    from integrations.runs.dispatch import dispatch_due

    return dispatch_due()


@shared_task
def sweep_expired_runs() -> int:
    from integrations.runs.dispatch import sweep_expired

    return sweep_expired()


@shared_task
def start_scheduled_run(flow_id: int) -> None:
    from integrations.runs.triggers import start_scheduled

    start_scheduled(flow_id)


@shared_task(acks_late=True)
def process_bulk_job(job_id: int) -> None:
    from integrations.runs.bulk import process_chunk

    process_chunk(job_id)


@shared_task
def resume_stalled_bulk_jobs() -> int:
    from integrations.runs.bulk import resume_stalled

    return resume_stalled()


@shared_task
def flush_due_batches() -> int:
    from integrations.runs.batches import flush_due

    return flush_due()


@shared_task(acks_late=True)
def execute_chunks(chunk_ids: list[int]) -> None:
    """Chunks of batch runs (ids only); each is claimed and fenced on its own."""
    from integrations.runs.chunks import execute

    for chunk_id in chunk_ids:
        execute(chunk_id)


@shared_task
def dispatch_due_chunks() -> int:
    from integrations.runs.chunks import dispatch_due

    return dispatch_due()


@shared_task
def sweep_expired_chunks() -> int:
    from integrations.runs.chunks import sweep_expired

    return sweep_expired()
