"""Doorbells: the Celery messages that tell a worker a run, a chunk or a bulk job is due.

The database is the source of truth (docs/ARCHITECTURE.md): a message carries ids only and
a lost one costs nothing, because the periodic dispatchers find the queued rows again. So
ringing never fails the caller: if the broker is down the row stays queued.

Messages are sent by task name (the tasks are defined in runs/tasks.py, which sits on top
of the app and imports the code they run; this module is at the bottom and imports none).

Run doorbells are coalesced per lane (docs/RELIABILITY.md §3, "Coalesced doorbells"): a
message already stands for its lane's due runs, so a ring finds out first (one Redis
`SET NX` on a per-lane mark) whether a message of that lane is waiting unconsumed, and sends
nothing if one is. The worker deletes the mark before it claims (`answered`), so a run that
commits after the delete rings again, and one that committed before it is seen by that
claim; a batch that came back full rings again for the rest. Without REDIS_URL (the embedded
filesystem broker), or with SWITCHBOARD_COALESCE_DOORBELLS = False, there is no mark and
every ring sends, as before."""

import logging
from contextlib import contextmanager

import redis
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

# The mark "a doorbell of this lane is waiting". Its expiry is only the safety net for a
# message that never comes (the ringer died between setting it and sending, or the message
# was lost): rings coalesce onto a lost message for at most this long, and those runs are
# sent by the dispatcher after its redispatch interval, as any run whose doorbell was lost.
# A mark that expires while its message still waits (a backlog) costs one more message.
# Short, because a message can also sit unconsumed in a worker that is shutting down (the
# rolling-restart test measured p99 1.3 s with 5 s; 0.96 s and 0.49 s with 1 s; under its
# 0.7 s bar without marks).
PENDING_SECONDS = 1
PENDING_KEY = "sb:doorbell:runs:{lane}"
_stores: dict[str, redis.Redis] = {}


def _send(task: str, args: tuple, **options) -> None:
    current_app.send_task(task, args=args, **options)


def _store() -> redis.Redis | None:
    url = getattr(settings, "REDIS_URL", "") or ""
    if not url or not getattr(settings, "SWITCHBOARD_COALESCE_DOORBELLS", True):
        return None
    if url not in _stores:  # redis-py's pool notices a fork and reconnects in the child
        _stores[url] = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    return _stores[url]


def _must_send(lane: str, *, force: bool = False) -> bool:
    """Set the lane's mark; True if this ring must send a message (it set the mark, or there
    is no mark to read), False if a message of the lane is waiting and stands for it."""
    store = _store()
    if store is None:
        return True
    try:
        if force:
            store.set(PENDING_KEY.format(lane=lane), 1, ex=PENDING_SECONDS)
            return True
        return bool(store.set(PENDING_KEY.format(lane=lane), 1, nx=True, ex=PENDING_SECONDS))
    except (redis.RedisError, OSError):  # no mark to trust: send, as without coalescing
        return True


def answered(lane: str) -> None:
    """A worker took a doorbell of `lane` and is about to claim: later rings must send again.
    Deleting a mark is always safe (at worst one message more); only a mark nobody will
    answer could delay a run, and it expires."""
    store = _store()
    if store is None:
        return
    try:
        store.delete(PENDING_KEY.format(lane=lane))
    except (redis.RedisError, OSError):
        log.warning("could not clear the doorbell mark of lane %s; it expires in %s s", lane, PENDING_SECONDS)


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


def rings_on_commit() -> bool:
    """True if runs created now are rung when the transaction commits (not collected by a
    worker that runs them itself): their `enqueued_at` can be written with the row."""
    return not _held_back


def enqueue_runs_on_commit(runs, *, stamped: bool = False) -> None:
    """Ring for these runs (Run rows or ids) once the transaction commits. Rows carry their
    lane, so ringing for new runs costs no query. `stamped`: the rows were inserted with
    `enqueued_at` already (rings_on_commit), so the ring writes nothing unless it fails."""
    ids = [getattr(r, "pk", r) for r in runs]
    if not ids:
        return
    if _held_back:
        _held_back[-1].extend(ids)
        return
    lanes = {r.pk: r.lane for r in runs if isinstance(r, Run)}
    transaction.on_commit(lambda: enqueue_runs(ids, lanes=lanes if len(lanes) == len(ids) else None, stamped=stamped))


def enqueue_runs(
    run_ids,
    *,
    lanes: dict[int, str] | None = None,
    stamped: bool = False,
    force: bool = False,
    lane: str | None = None,
) -> None:
    """Ring for the runs: per lane, nothing if a message of that lane is waiting (it stands
    for them), else one message per batch of ids (a message is a doorbell for its lane: the
    worker claims that lane's due runs, claims.py). If the broker is down the dispatcher
    finds the queued rows later.

    `lanes`: {id: lane} when the caller knows them (new runs), else they are read.
    `enqueued_at` is written before sending (or already was, with the row: `stamped`) and
    cleared for the runs whose message could not be sent, so the dispatcher's next pass
    sends them.
    `force`: send even if a message of the lane is waiting (the dispatcher: its runs' doorbell
    may be the one that was lost). `lane`: ring this lane even if no id is left (a full batch)."""
    ids = list(run_ids)
    if lanes is None:
        lanes = dict(Run.objects.filter(pk__in=ids).values_list("pk", "lane")) if ids else {}
    by_lane: dict[str, list[int]] = {lane: []} if lane else {}
    for run_id in ids:
        if run_id in lanes:
            by_lane.setdefault(lanes[run_id], []).append(run_id)
    named = [run_id for lane_ids in by_lane.values() for run_id in lane_ids]
    if named and not stamped:
        # Marked before sending, so the row is not locked by this write when the message's
        # worker claims (a claim skips locked rows). Losing the mark costs at most a second
        # doorbell: it need not wait for the disk.
        with durability.relaxed():
            Run.objects.filter(pk__in=named).update(enqueued_at=timezone.now())
    size, unsent = batch_size(), []
    for lane_name, lane_ids in by_lane.items():
        if not _must_send(lane_name, force=force):
            continue  # the waiting message's claim will see them: they committed before this ring
        for i in range(0, max(len(lane_ids), 1), size):
            batch = lane_ids[i : i + size]
            try:
                _send(EXECUTE_RUNS, (batch, lane_name), queue=lane_name, expires=settings.SWITCHBOARD_LEASE_SECONDS)
            except Exception:  # broker unavailable: the rows stay queued and are dispatched later
                log.warning("could not enqueue runs %s…; the dispatcher will pick them up", batch[:3])
                answered(lane_name)  # no message stands behind the mark: later rings must send
                unsent += lane_ids[i:]
                break
    if unsent:  # released for the dispatcher's next pass
        with durability.relaxed():
            Run.objects.filter(pk__in=unsent).update(enqueued_at=None)


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
