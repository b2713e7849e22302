"""Chunks of a batch run: split once, claimed and fenced like runs, executed in memory,
written in one fenced transaction, completion detected once.

RELIABILITY §3 applies to a chunk exactly as to a run: Celery messages carry chunk ids only;
a claim is a conditional UPDATE that bumps `fence` and sets a lease; the chunk's results
(step counts, exceptions, deliveries, outputs) commit only together with the fenced
`running → done` update, so a worker that lost its lease writes nothing, and a re-executed
chunk never requests a delivery twice (keys are unique, inserted ON CONFLICT DO NOTHING).
The periodic dispatcher re-enqueues due chunks whose doorbell was lost; the sweeper returns
lease-expired chunks to the queue and, after WORKER_LOSS_CAP losses, fails the chunk with a
`worker_lost` exception per record, so a poison chunk cannot loop."""

import logging
from datetime import timedelta
from time import perf_counter

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from integrations.runs.choices import ChunkStatus, Classification, RunStatus
from integrations.runs.models import Run, RunChunk

log = logging.getLogger(__name__)

WORKER_LOSS_CAP = 3
REDISPATCH_AFTER = timedelta(seconds=60)
CHUNKS_PER_MESSAGE = 1  # one chunk is already hundreds of records; one per message spreads them over workers
TERMINAL = (ChunkStatus.DONE, ChunkStatus.FAILED)
LIMIT = 500


def build(run: Run, records: list, size: int) -> list[RunChunk]:
    now = timezone.now()
    return [
        RunChunk(run=run, index=n, first=start, records=records[start : start + size], next_attempt_at=now)
        for n, start in enumerate(range(0, len(records), size))
    ]


def enqueue_on_commit(chunk_ids) -> None:
    ids = list(chunk_ids)
    if ids:
        transaction.on_commit(lambda: enqueue(ids))


def enqueue(chunk_ids) -> None:
    """Ring the doorbell; if the broker is down the dispatcher finds the queued chunks later."""
    from integrations.runs import tasks

    ids = list(chunk_ids)
    for i in range(0, len(ids), CHUNKS_PER_MESSAGE):
        try:
            tasks.execute_chunks.apply_async(
                (ids[i : i + CHUNKS_PER_MESSAGE],), expires=settings.SWITCHBOARD_LEASE_SECONDS
            )
        except Exception:  # broker unavailable: the rows stay queued
            log.warning("could not enqueue chunks %s; the dispatcher will pick them up", ids[i : i + 3])
            ids = ids[:i]
            break
    RunChunk.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())


def claim(chunk_id: int) -> RunChunk | None:
    now = timezone.now()
    due = Q(status=ChunkStatus.QUEUED) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    claimed = RunChunk.objects.filter(due, pk=chunk_id).update(
        status=ChunkStatus.RUNNING,
        fence=F("fence") + 1,
        attempts=F("attempts") + 1,
        lease_until=now + timedelta(seconds=settings.SWITCHBOARD_LEASE_SECONDS),
    )
    if not claimed:
        return None
    return RunChunk.objects.select_related("run__flow_version__flow").get(pk=chunk_id)


def execute(chunk_id: int) -> RunChunk | None:
    """Execute one chunk. Safe to call twice: the loser of the claim returns None."""
    from integrations.runs import batch_runs

    chunk = claim(chunk_id)
    if chunk is None:
        return None
    started = perf_counter()
    try:
        budget = batch_runs.chunk_budget_seconds()
        result = batch_runs.run_records(chunk.run, chunk.records, first=chunk.first, budget=budget)
        committed = _commit(chunk, result, (perf_counter() - started) * 1000)
    except Exception as exc:  # a bug would fail the same way on every retry: fail the chunk now
        log.exception("chunk %s of run %s crashed", chunk.pk, chunk.run_id)
        committed = _fail(chunk, f"{type(exc).__name__}: {exc}"[:2000], Classification.PERMANENT, "internal")
    if not committed:
        return None
    complete_if_done(chunk.run_id)
    return chunk


def _fail(chunk: RunChunk, message: str, classification, kind: str, now=None) -> bool:
    """Fenced: the chunk ends `failed` and each of its records is an exception of its own."""
    from integrations.runs import batch_runs

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
        failures = [(f"record:{chunk.first + i}", record, error) for i, record in enumerate(chunk.records)]
        batch_runs.open_item_exceptions(chunk.run, failures, classification=classification)
    return True


def _commit(chunk: RunChunk, result, duration_ms: float) -> bool:
    """Everything the chunk produced, in one transaction that holds the chunk's fence."""
    from integrations.runs import batch_runs

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
                raise batch_runs.StaleFence(chunk.pk)
            if result.done < len(chunk.records):
                _hand_on_rest(chunk, result.done)
            scope = {"chunk": chunk.index, "first_record": chunk.first, "records": result.done}
            batch_runs.write_results(chunk.run, result, attempt=chunk.attempts, scope=scope)
    except batch_runs.StaleFence:
        log.info("chunk %s lost its lease; its results were dropped", chunk.pk)
        return False
    return True


def _hand_on_rest(chunk: RunChunk, done: int) -> None:
    """Out of time: this chunk keeps the records it ran; the rest become a new queued chunk.
    The run row is locked so two chunks handing on at once cannot take the same index."""
    from django.db.models import Max

    Run.objects.select_for_update().filter(pk=chunk.run_id).first()
    top = RunChunk.objects.filter(run_id=chunk.run_id).aggregate(n=Max("index"))["n"]
    RunChunk.objects.filter(pk=chunk.pk).update(records=chunk.records[:done])
    rest = RunChunk.objects.create(
        run_id=chunk.run_id,
        index=top + 1,
        first=chunk.first + done,
        records=chunk.records[done:],
        next_attempt_at=timezone.now(),
    )
    enqueue_on_commit([rest.pk])


def complete_if_done(run_id: int) -> bool:
    """All chunks terminal → the run is queued again to finish (groups, deliveries), exactly
    once: the conditional update on `waiting-chunks` has one winner (RELIABILITY P13)."""
    from integrations.runs.services import enqueue_on_commit as enqueue_run

    unfinished = RunChunk.objects.filter(run_id=OuterRef("pk")).exclude(status__in=TERMINAL)
    won = (
        Run.objects.filter(pk=run_id, status=RunStatus.WAITING_CHUNKS)
        .exclude(Exists(unfinished))
        .update(status=RunStatus.QUEUED, next_attempt_at=timezone.now(), attempts=0, enqueued_at=None)
    )
    if won:
        enqueue_run([Run(pk=run_id)])
    return bool(won)


def dispatch_due(now=None) -> int:
    now = now or timezone.now()
    due = RunChunk.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - REDISPATCH_AFTER),
        status=ChunkStatus.QUEUED,
    ).order_by("next_attempt_at", "id")
    ids = list(due.values_list("id", flat=True)[:LIMIT])
    enqueue(ids)
    return len(ids)


def sweep_expired(now=None) -> int:
    """Lease-expired chunks back to the queue, or failed at the worker-loss cap; and, as a
    safety net, finish runs whose completion check was lost with a worker."""
    from integrations.runs import batch_runs

    now = now or timezone.now()
    swept = 0
    for chunk in RunChunk.objects.filter(status=ChunkStatus.RUNNING, lease_until__lt=now)[:LIMIT]:
        swept += _recover(chunk, now)
    for run_id in Run.objects.filter(status=RunStatus.WAITING_CHUNKS).values_list("pk", flat=True)[:LIMIT]:
        complete_if_done(run_id)
    for run_id in Run.objects.filter(status=RunStatus.WAITING_DELIVERY, chunked=True).values_list("pk", flat=True)[
        :LIMIT
    ]:
        batch_runs.finish_if_delivered(run_id)
    return swept


def _recover(chunk: RunChunk, now) -> int:

    expired = Q(pk=chunk.pk, fence=chunk.fence, status=ChunkStatus.RUNNING, lease_until__lt=now)
    if chunk.worker_losses + 1 < WORKER_LOSS_CAP:
        return RunChunk.objects.filter(expired).update(
            status=ChunkStatus.QUEUED,
            worker_losses=F("worker_losses") + 1,
            lease_until=None,
            next_attempt_at=timezone.now(),
            enqueued_at=None,
        )
    message = f"the worker running this record's chunk was lost {WORKER_LOSS_CAP} times"
    if not RunChunk.objects.filter(expired).exists() or not _fail(
        chunk, message, Classification.WORKER_LOST, "worker_lost", now
    ):
        return 0
    complete_if_done(chunk.run_id)
    return 1
