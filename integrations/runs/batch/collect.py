"""The `batch` step of one-record runs: collect records by group key; flush by size or age.

Completion is a conditional UPDATE (open → flushing) so exactly one flusher wins — no
Celery chords (docs/RELIABILITY.md §9). On flush ONE run (the oldest) resumes with every record of
the batch and carries the flow on; every other run resumes with {"joined": batch_id} and
completes there."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from integrations.flows.engine_api import step_id_of
from integrations.runs import doorbell
from integrations.runs.choices import BatchStatus, RunStatus
from integrations.runs.models import Batch, BatchItem, Run


def add_to_batch(run: Run, step, group_key: str, record: dict) -> Batch:
    raw = getattr(step, "raw", {}) or {}
    size, wait = int(raw.get("size") or 100), int(raw.get("max_wait_seconds") or 3600)
    with transaction.atomic():
        batch = _open_batch(run, step_id_of(step), group_key, size, wait)
        BatchItem.objects.get_or_create(run=run, defaults={"batch": batch, "record": record})
        Batch.objects.filter(pk=batch.pk).update(size=F("size") + 1)
        batch.refresh_from_db()
    return batch


def maybe_flush(batch_id: int, now=None) -> bool:
    """Flush a full or old batch once every run in it has suspended (none still running),
    so the carrier run gets every record and no run misses its resume."""
    now = now or timezone.now()
    batch = Batch.objects.filter(pk=batch_id, status=BatchStatus.OPEN).first()
    if batch is None or (batch.size < batch.max_size and batch.flush_at and batch.flush_at > now):
        return False
    busy = Run.objects.filter(batch_item__batch=batch, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists()
    return False if busy else flush(batch.pk)


def _open_batch(run: Run, step_id: str, group_key: str, size: int, wait: int) -> Batch:
    found = Batch.objects.filter(
        flow_version=run.flow_version, step_id=step_id, group_key=group_key, status=BatchStatus.OPEN
    )
    batch = found.select_for_update().first()
    if batch is not None:
        return batch
    try:
        with transaction.atomic():
            return Batch.objects.create(
                flow_version=run.flow_version,
                step_id=step_id,
                group_key=group_key,
                max_size=size,
                flush_at=timezone.now() + timedelta(seconds=wait),
            )
    except IntegrityError:
        return found.select_for_update().get()


def flush(batch_id: int) -> bool:
    """Flush once: only the caller whose conditional update wins resumes the runs."""
    if not Batch.objects.filter(pk=batch_id, status=BatchStatus.OPEN).update(status=BatchStatus.FLUSHING):
        return False
    with transaction.atomic():
        batch = Batch.objects.get(pk=batch_id)
        items = list(batch.items.order_by("run_id"))
        waiting = set(
            Run.objects.filter(pk__in=[i.run_id for i in items], status=RunStatus.WAITING_BATCH).values_list(
                "pk", flat=True
            )
        )
        dropped = len(items) - len(waiting)  # runs that failed or were cancelled before the flush
        items = [i for i in items if i.run_id in waiting]
        for index, item in enumerate(items):
            outcome = (
                {"batch_id": batch.pk, "records": [i.record for i in items]} if index == 0 else {"joined": batch.pk}
            )
            Run.objects.filter(pk=item.run_id, status=RunStatus.WAITING_BATCH).update(
                status=RunStatus.QUEUED,
                attempts=0,
                resume={"step_id": batch.step_id, "outcome": outcome},
                next_attempt_at=timezone.now(),
            )
        Batch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.DONE, flushed_at=timezone.now(), done_count=len(items), failed_count=dropped
        )
        doorbell.enqueue_runs_on_commit([i.run_id for i in items])
    return True


def flush_due(now=None) -> int:
    now = now or timezone.now()
    due = Batch.objects.filter(status=BatchStatus.OPEN, flush_at__lte=now).values_list("pk", flat=True)
    return sum(maybe_flush(pk, now) for pk in list(due))


def note_carrier_outcome(run: Run, *, step_id: str = "", failed: bool) -> None:
    """Keep `failed_count` (records of the batch that did not get through) true when the
    carrier — or a retry of it — fails after the flush (every record fails with it) or a
    retry succeeds (only the records dropped at the flush stay failed). Joined runs end at
    the batch step, so a failure at any other step of a flushed batch's run is the carrier's."""
    item = _batch_item_of(run)
    if item is None or item.batch.status != BatchStatus.DONE or (failed and step_id == item.batch.step_id):
        return
    failed_count = F("size") if failed else F("size") - F("done_count")
    Batch.objects.filter(pk=item.batch_id).update(failed_count=failed_count)


def _batch_item_of(run: Run, depth: int = 10):
    """The batch item of this run, or of the run it retries (a retry has no item of its own)."""
    while run is not None and depth:
        item = BatchItem.objects.select_related("batch").filter(run_id=run.pk).first()
        if item is not None or run.retry_of_id is None:
            return item
        run, depth = Run.objects.filter(pk=run.retry_of_id).only("pk", "retry_of_id").first(), depth - 1
    return None
