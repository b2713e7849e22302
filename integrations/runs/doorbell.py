"""Doorbells: the Celery messages that tell a worker a run, a chunk or a bulk job is due.

The database is the source of truth (docs/ARCHITECTURE.md): a message carries ids only and
a lost one costs nothing, because the periodic dispatchers find the queued rows again. So
ringing never fails the caller: if the broker is down the row stays queued.

Messages are sent by task name (the tasks are defined in runs/tasks.py, which sits on top
of the app and imports the code they run; this module is at the bottom and imports none)."""

import logging
from contextlib import contextmanager

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations import durability
from integrations.runs.claims import batch_size
from integrations.runs.models import Run, RunChunk

log = logging.getLogger(__name__)

EXECUTE_RUN = "integrations.runs.tasks.execute_run"  # one run (messages sent before batch claims)
EXECUTE_RUNS = "integrations.runs.tasks.execute_runs"  # a batch of its lane's due runs (claims.py)
EXECUTE_CHUNKS = "integrations.runs.tasks.execute_chunks"
PROCESS_BULK_JOB = "integrations.runs.tasks.process_bulk_job"
CHUNKS_PER_MESSAGE = 1  # one chunk is already hundreds of records; one per message spreads them over workers


def _send(task: str, args: tuple, **options) -> None:
    current_app.send_task(task, args=args, **options)


# While a worker finishes runs itself (worker.py `ringing_later`), the runs it wakes are
# collected here instead of rung: it claims them again in the same task.
_held_back: list[list[int]] = []


@contextmanager
def ringing_later():
    """Collect the ids of runs woken inside the block instead of ringing for them; the caller
    takes what it will run itself (`list.clear()`), and whatever is left is rung at the end.
    A run collected and never rung (the process died) is queued with no `enqueued_at`: the
    dispatcher sends it at its next pass."""
    woken: list[int] = []
    _held_back.append(woken)
    try:
        yield woken
    finally:
        _held_back.pop()
        if woken:
            enqueue_runs(list(dict.fromkeys(woken)))


def enqueue_runs_on_commit(runs) -> None:
    """Ring for these runs (Run rows or ids) once the transaction commits. Rows carry their
    lane, so ringing for new runs costs no query."""
    ids = [getattr(r, "pk", r) for r in runs]
    if not ids:
        return
    if _held_back:
        _held_back[-1].extend(ids)
        return
    lanes = {r.pk: r.lane for r in runs if isinstance(r, Run)}
    transaction.on_commit(lambda: enqueue_runs(ids, lanes=lanes if len(lanes) == len(ids) else None))


def enqueue_runs(run_ids, *, lanes: dict[int, str] | None = None) -> None:
    """Ring for the runs: one message per batch of ids of the same lane (a message is a
    doorbell for its lane: the worker claims that lane's due runs, claims.py). If the broker
    is down the dispatcher finds the queued rows later. `lanes`: {id: lane} when the caller
    knows them (new runs), else they are read."""
    ids = list(run_ids)
    if lanes is None:
        lanes = dict(Run.objects.filter(pk__in=ids).values_list("pk", "lane"))
    by_lane: dict[str, list[int]] = {}
    for run_id in ids:
        if run_id in lanes:
            by_lane.setdefault(lanes[run_id], []).append(run_id)
    size, sent = batch_size(), []
    for lane, lane_ids in by_lane.items():
        for i in range(0, len(lane_ids), size):
            batch = lane_ids[i : i + size]
            try:
                _send(EXECUTE_RUNS, (batch, lane), queue=lane, expires=settings.SWITCHBOARD_LEASE_SECONDS)
            except Exception:  # broker unavailable: the rows stay queued and are dispatched later
                log.warning("could not enqueue runs %s…; the dispatcher will pick them up", batch[:3])
                break
            sent += batch
    if sent:
        # Losing this mark costs at most a second doorbell: it need not wait for the disk.
        with durability.relaxed():
            Run.objects.filter(pk__in=sent).update(enqueued_at=timezone.now())


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
