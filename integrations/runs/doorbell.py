"""Doorbells: the Celery messages that tell a worker a run, a chunk or a bulk job is due.

The database is the source of truth (docs/ARCHITECTURE.md): a message carries ids only and
a lost one costs nothing, because the periodic dispatchers find the queued rows again. So
ringing never fails the caller: if the broker is down the row stays queued.

Messages are sent by task name (the tasks are defined in runs/tasks.py, which sits on top
of the app and imports the code they run; this module is at the bottom and imports none)."""

import logging

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.runs.models import Run, RunChunk

log = logging.getLogger(__name__)

EXECUTE_RUN = "integrations.runs.tasks.execute_run"
EXECUTE_CHUNKS = "integrations.runs.tasks.execute_chunks"
PROCESS_BULK_JOB = "integrations.runs.tasks.process_bulk_job"
CHUNKS_PER_MESSAGE = 1  # one chunk is already hundreds of records; one per message spreads them over workers


def _send(task: str, args: tuple, **options) -> None:
    current_app.send_task(task, args=args, **options)


def enqueue_runs_on_commit(run_ids) -> None:
    ids = [getattr(r, "pk", r) for r in run_ids]
    if ids:
        transaction.on_commit(lambda: enqueue_runs(ids))


def enqueue_runs(run_ids) -> None:
    """Ring for each run; if the broker is down the dispatcher finds the queued rows later."""
    for run_id in run_ids:
        try:
            _send(EXECUTE_RUN, (run_id,), expires=settings.SWITCHBOARD_LEASE_SECONDS)
        except Exception:  # broker unavailable: the row stays queued and is dispatched later
            log.warning("could not enqueue run %s; the dispatcher will pick it up", run_id)
            return
    Run.objects.filter(pk__in=run_ids).update(enqueued_at=timezone.now())


def enqueue_chunks_on_commit(chunk_ids) -> None:
    ids = list(chunk_ids)
    if ids:
        transaction.on_commit(lambda: enqueue_chunks(ids))


def enqueue_chunks(chunk_ids) -> None:
    """Ring for the chunks; if the broker is down the dispatcher finds the queued chunks later."""
    ids = list(chunk_ids)
    for i in range(0, len(ids), CHUNKS_PER_MESSAGE):
        try:
            _send(EXECUTE_CHUNKS, (ids[i : i + CHUNKS_PER_MESSAGE],), expires=settings.SWITCHBOARD_LEASE_SECONDS)
        except Exception:  # broker unavailable: the rows stay queued
            log.warning("could not enqueue chunks %s; the dispatcher will pick them up", ids[i : i + 3])
            ids = ids[:i]
            break
    RunChunk.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())


def enqueue_bulk_job(job_id: int) -> None:
    """Ring for the next chunk of a bulk job; a lost ring is rung again by resume_stalled."""
    _send(PROCESS_BULK_JOB, (job_id,))
