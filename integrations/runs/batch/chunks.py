"""Chunks of a batch run: split once, claimed and fenced like runs, executed in memory,
written in one fenced transaction, completion detected once.

docs/RELIABILITY.md §3 applies to a chunk exactly as to a run: Celery messages carry chunk ids only;
a claim is a conditional UPDATE that bumps `fence` and sets a lease; the chunk's results
(step counts, exceptions, deliveries, outputs) commit only together with the fenced
`running → done` update, so a worker that lost its lease writes nothing, and a re-executed
chunk never requests a delivery twice (keys are unique, inserted ON CONFLICT DO NOTHING).
Records that failed transiently (a lookup's timeout, 503, 429) are handed on, with the same
commit, as a new chunk due after a backoff (Retry-After honoured), until MAX_RUN_ATTEMPTS tries
like a one-record run; only then are they exceptions. Nothing waits in a worker: the periodic
dispatcher rings due chunks, and re-enqueues those whose doorbell was lost.

The sweeper returns a lease-expired chunk to the queue once; lost again, the chunk is split
into two halves (the old row `split`, fenced), so a poison record that kills its worker is
bisected down to a chunk of its own, which fails with a `worker_lost` exception after
leases.MAX_WORKER_LOSSES losses while the other records are delivered. Each record runs O(log n)
times at most, so a poison chunk cannot loop."""

import logging
from datetime import timedelta
from time import perf_counter

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from integrations import backoff, leases, tracing
from integrations.health.services import note_redelivery
from integrations.runs import doorbell
from integrations.runs.batch import records as batch_records
from integrations.runs.batch.completion import complete_if_done, finish_if_delivered
from integrations.runs.choices import ChunkStatus, Classification, RunStatus
from integrations.runs.models import Run, RunChunk
from integrations.runs.outcomes import MAX_RUN_ATTEMPTS, StaleFence

log = logging.getLogger(__name__)

SPLIT_AT = 2  # losses of a larger chunk before it is split in halves
LIMIT = 500


def build(run: Run, records: list, size: int) -> list[RunChunk]:
    now = timezone.now()
    return [
        RunChunk(run=run, index=n, first=start, records=records[start : start + size], next_attempt_at=now)
        for n, start in enumerate(range(0, len(records), size))
    ]


def claim(chunk_id: int) -> RunChunk | None:
    now = timezone.now()
    if not leases.claim(RunChunk, chunk_id, now=now, queued=[ChunkStatus.QUEUED], running=ChunkStatus.RUNNING):
        return None
    return RunChunk.objects.select_related("run__flow_version__flow").get(pk=chunk_id)


def execute(chunk_id: int, *, redelivered: bool = False, hostname: str = "") -> RunChunk | None:
    """Execute one chunk. Safe to call twice: the loser of the claim returns None (and, for
    a redelivered message, notes the chunk for /healthz if a live execution holds it)."""
    chunk = claim(chunk_id)
    if chunk is None:
        if redelivered:
            held = leases.held_for(RunChunk, chunk_id, running=ChunkStatus.RUNNING, now=timezone.now())
            if held is not None:
                note_redelivery("chunk", chunk_id, held_seconds=held, hostname=hostname)
        return None
    started = perf_counter()
    try:
        # In the run's trace (integrations/tracing.py): the records' lookups carry its trace id.
        with tracing.run_span("chunk.execute", chunk.run_id, chunk=chunk.index, records=len(chunk.records)):
            result = batch_records.run_records(
                chunk.run,
                chunk.records,
                positions=chunk.record_positions(),
                budget=batch_records.chunk_budget_seconds(),
                retry_transient=chunk.retries + 1 < MAX_RUN_ATTEMPTS,
            )
        committed = _commit(chunk, result, (perf_counter() - started) * 1000)
    except leases.DATABASE_ERRORS:
        raise  # not the records' fault: the task gives the chunk back (leases.holding)
    except Exception as exc:  # a bug would fail the same way on every retry: fail the chunk now
        log.exception("chunk %s of run %s crashed", chunk.pk, chunk.run_id)
        committed = _fail(chunk, f"{type(exc).__name__}: {exc}"[:2000], Classification.PERMANENT, "internal")
    if not committed:
        return None
    complete_if_done(chunk.run_id)
    return chunk


def _fail(chunk: RunChunk, message: str, classification, kind: str, now=None) -> bool:
    """Fenced: the chunk ends `failed` and each of its records is an exception of its own."""
    now = now or timezone.now()
    mine = Q(pk=chunk.pk, fence=chunk.fence, status=ChunkStatus.RUNNING)
    with transaction.atomic():
        if not RunChunk.objects.filter(mine).update(
            status=ChunkStatus.FAILED,
            worker_losses=F("worker_losses") + (1 if classification == Classification.WORKER_LOST else 0),
            lease_until=None,
            failed=len(chunk.records),
            finished_at=now,
        ):
            return False
        error = {"kind": kind, "message": message, "step_id": ""}
        failures = [
            (f"record:{n}", record, error) for n, record in zip(chunk.record_positions(), chunk.records, strict=True)
        ]
        batch_records.open_item_exceptions(chunk.run, failures, classification=classification)
    return True


def _commit(chunk: RunChunk, result, duration_ms: float) -> bool:
    """Everything the chunk produced, in one transaction that holds the chunk's fence."""
    try:
        with transaction.atomic():
            won = RunChunk.objects.filter(pk=chunk.pk, fence=chunk.fence, status=ChunkStatus.RUNNING).update(
                status=ChunkStatus.DONE,
                lease_until=None,
                succeeded=result.succeeded,
                failed=len(result.failures),
                skipped=result.skipped,
                groups=result.groups or None,
                outputs=result.outputs,
                duration_ms=duration_ms,
                finished_at=timezone.now(),
            )
            if not won:
                raise StaleFence(chunk.pk)
            _hand_on(chunk, result)
            scope = {"chunk": chunk.index, "first_record": chunk.first, "records": result.done - len(result.retry)}
            batch_records.write_results(chunk.run, result, attempt=chunk.attempts, scope=scope)
    except StaleFence:
        log.info("chunk %s lost its lease; its results were dropped", chunk.pk)
        return False
    return True


def _hand_on(chunk: RunChunk, result) -> None:
    """Inside the chunk's fenced commit: this chunk keeps the records it finished; those it
    had no time for become a new chunk due now, those that failed transiently a new chunk due
    after a backoff (no doorbell: the dispatcher rings it when due, so nothing sleeps)."""
    retry = set(result.retry)
    rest = list(range(result.done, len(chunk.records)))
    if not rest and not retry:
        return
    kept = [i for i in range(result.done) if i not in retry]
    RunChunk.objects.filter(pk=chunk.pk).update(**_slice(chunk, kept))
    now = timezone.now()
    if rest:
        later = _add_chunk(chunk, rest, retries=chunk.retries, next_attempt_at=now)
        doorbell.enqueue_chunks_on_commit([later.pk])
    if retry:
        tries = chunk.retries + 1
        due = backoff.next_attempt_at(tries, retry_after=result.retry_after, now=now)
        _add_chunk(chunk, sorted(retry), retries=tries, next_attempt_at=due)


def _slice(chunk: RunChunk, offsets: list[int]) -> dict:
    """The chunk's records at `offsets`, with their positions in the run's list (kept only
    when they are not consecutive, the common case of a plain range needs none)."""
    every = chunk.record_positions()
    positions = [every[i] for i in offsets]
    first = positions[0] if positions else chunk.first
    consecutive = positions == list(range(first, first + len(positions)))
    return {
        "first": first,
        "records": [chunk.records[i] for i in offsets],
        "positions": None if consecutive else positions,
    }


def _add_chunk(chunk: RunChunk, offsets: list[int], **fields) -> RunChunk:
    """A new chunk of some of `chunk`'s records. The run row is locked so two chunks handing
    on at once cannot take the same index."""
    Run.objects.select_for_update().filter(pk=chunk.run_id).first()
    top = RunChunk.objects.filter(run_id=chunk.run_id).aggregate(n=Max("index"))["n"]
    return RunChunk.objects.create(run_id=chunk.run_id, index=top + 1, **_slice(chunk, offsets), **fields)


def dispatch_due(now=None) -> int:
    now = now or timezone.now()
    due = RunChunk.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - timedelta(seconds=leases.redispatch_seconds())),
        status=ChunkStatus.QUEUED,
    ).order_by("next_attempt_at", "id")
    ids = list(due.values_list("id", flat=True)[:LIMIT])
    doorbell.enqueue_chunks(ids)
    return len(ids)


def sweep_expired(now=None) -> int:
    """Lease-expired chunks back to the queue, or failed at the worker-loss cap; and, as a
    safety net, finish runs whose completion check was lost with a worker."""
    now = now or timezone.now()
    swept = 0
    for chunk in RunChunk.objects.filter(status=ChunkStatus.RUNNING, lease_until__lt=now)[:LIMIT]:
        swept += _recover(chunk, now)
    for run_id in Run.objects.filter(status=RunStatus.WAITING_CHUNKS).values_list("pk", flat=True)[:LIMIT]:
        complete_if_done(run_id)
    for run_id in Run.objects.filter(status=RunStatus.WAITING_DELIVERY, chunked=True).values_list("pk", flat=True)[
        :LIMIT
    ]:
        finish_if_delivered(run_id)
    return swept


def _recover(chunk: RunChunk, now) -> int:
    """One lost lease: back to the queue (the loss may have nothing to do with the records).
    Lost again: split in halves, so a poison record is isolated in O(log n) losses; a
    one-record chunk is retried up to leases.MAX_WORKER_LOSSES losses, then its record is an exception."""
    expired = Q(pk=chunk.pk, fence=chunk.fence, status=ChunkStatus.RUNNING, lease_until__lt=now)
    losses = chunk.worker_losses + 1
    if len(chunk.records) > 1 and losses >= SPLIT_AT:
        return _split(chunk, expired, now)
    if losses < leases.MAX_WORKER_LOSSES:
        return RunChunk.objects.filter(expired).update(
            status=ChunkStatus.QUEUED,
            worker_losses=F("worker_losses") + 1,
            lease_until=None,
            next_attempt_at=timezone.now(),
            enqueued_at=None,
        )
    message = f"the worker running this record was lost {leases.MAX_WORKER_LOSSES} times"
    if not RunChunk.objects.filter(expired).exists() or not _fail(
        chunk, message, Classification.WORKER_LOST, "worker_lost", now
    ):
        return 0
    complete_if_done(chunk.run_id)
    return 1


def _split(chunk: RunChunk, expired: Q, now) -> int:
    """Fenced: the chunk ends `split` and its records go on as two queued halves, each
    counted as lost once already so that a half that is lost again splits at once."""
    half = len(chunk.records) // 2
    with transaction.atomic():
        if not RunChunk.objects.filter(expired).update(
            status=ChunkStatus.SPLIT, worker_losses=F("worker_losses") + 1, lease_until=None, finished_at=now
        ):
            return 0
        due = timezone.now()  # `now` may be a sweep's view of the clock, not when the halves are due
        halves = [
            _add_chunk(chunk, offsets, retries=chunk.retries, worker_losses=SPLIT_AT - 1, next_attempt_at=due)
            for offsets in (list(range(half)), list(range(half, len(chunk.records))))
        ]
        doorbell.enqueue_chunks_on_commit([h.pk for h in halves])
    log.warning("chunk %s of run %s was lost %s times: split in two", chunk.pk, chunk.run_id, chunk.worker_losses + 1)
    return 1
