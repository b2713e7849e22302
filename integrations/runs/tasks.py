"""Thin Celery wrappers: ids in, one call. Retries live in the database (`next_attempt_at`
+ the dispatcher), never in Celery countdowns. This module sits on top of the app: the code
below it rings these tasks by name (doorbell.py), so nothing imports it back."""

from celery import shared_task
from celery.signals import task_received
from django.utils import timezone

from integrations import backoff, leases
from integrations.runs import claims, dispatch, doorbell, lanes, services, worker
from integrations.runs.batch import accumulate, chunks, collect
from integrations.runs.batch import held as held_writes
from integrations.runs.choices import RunStatus
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


def _more_due_than(lane: str, limit: int) -> bool:
    return bool(claims.due_in_lane(lane, timezone.now()).values_list("pk", flat=True)[limit : limit + 1])


@shared_task(acks_late=True, bind=True)
def execute_runs(self, run_ids: list[int], lane: str = lanes.INTERACTIVE) -> int:
    """A doorbell for `lane`: claim a batch of its due runs (fairly across flows, whichever
    ids the message names) and take them as far as this worker can (worker.py).

    It always claims, also when the runs it names were taken already: rings for other runs
    may have coalesced onto it (doorbell.py), and it is the message those runs wait for."""
    if lane not in lanes.RUN_LANES:
        lane = lanes.INTERACTIVE
    with leases.holding(retry_at=backoff.next_attempt_at) as held:
        # Before the claim: a run committed after this rings again (and sends, the mark being
        # gone); one committed before it is seen by the claim below.
        doorbell.answered(lane)
        limit = worker.batch_limit()
        if _more_due_than(lane, limit):
            # Ring for the rest now, not when this batch is done: another worker process
            # starts on them while this one runs its batch (claims skip each other's rows).
            doorbell.enqueue_runs([], lane=lane)
        claimed = worker.execute_lane(lane, limit=limit, task_id=self.request.id or "")
        # A full batch may have left runs behind whose rings coalesced onto this message
        # (some committed after the look above, or skipped by another worker's claim while
        # this one held them): ring again for the lane, naming those of its own still due.
        # Usually the ring above stands for them and this one sends nothing.
        full = claimed >= limit
        left = claims.due_of(run_ids) if full and run_ids else []
        if not claimed and _redelivered(self.request):
            for run_id in run_ids[:10]:
                services.note_if_leased(
                    Run, "run", run_id, running=RunStatus.RUNNING, hostname=self.request.hostname or ""
                )
    _ring_released(held)
    if full:
        doorbell.enqueue_runs(left, lanes=dict.fromkeys(left, lane), lane=lane)
    return claimed


@task_received.connect
def answer_on_receipt(request=None, **_) -> None:
    """A worker that takes a run message from the broker answers its lane's doorbell at once
    (in the worker's main process), not only when a pool process starts the task: rings after
    that send a message of their own. So a message that goes back to the broker unstarted (a
    stopping worker hands back what it had reserved, about half a second later) holds back
    only the runs that rang before it was taken, not every run that rang until it comes
    round again. The task answers again before it claims."""
    if request is None or request.name != execute_runs.name:
        return
    args, kwargs = request.args or (), request.kwargs or {}
    lane = args[1] if len(args) > 1 else kwargs.get("lane", lanes.INTERACTIVE)
    doorbell.answered(lane if lane in lanes.RUN_LANES else lanes.INTERACTIVE)


@shared_task(acks_late=True, bind=True)
def execute_run(self, run_id: int) -> None:
    """One run (messages sent before batch claims, and tests): claimed, then finished here
    as far as it goes, deliveries included (worker.py)."""
    with leases.holding(retry_at=backoff.next_attempt_at) as held:
        run = services.claim(run_id)
        if run is None and _redelivered(self.request):
            services.note_if_leased(Run, "run", run_id, running=RunStatus.RUNNING, hostname=self.request.hostname or "")
        if run is not None:
            worker.run_through([run], task_id=self.request.id or "")
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
    """One-record runs' batches, and batch flows' groups that stayed open across runs (and
    the writes held for a delivery that succeeded, if the release at its end was missed)."""
    held_writes.release_due()
    return collect.flush_due() + accumulate.flush_due()


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
