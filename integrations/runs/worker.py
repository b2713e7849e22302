"""What a worker does with a run message: claim a batch of its lane's due runs, execute them,
send the deliveries they asked for itself, and finish the runs whose deliveries succeeded —
all in the same task, without another trip through the broker (docs/RELIABILITY.md §3,
"Batch claims").

A one-event run used to take three messages (the run up to its deliver step, the delivery on
its connection's queue, the resumed run), each waiting behind whatever its lane held. Now the
worker that ran it sends its deliveries for up to `INLINE_DELIVERY_SECONDS` per round and
resumes the runs they woke. What it does not send itself — a connection that has been
failing (a slow or broken target must hold its own queue, not the interactive lane), or
anything past the time allowance — goes to the connections' queues at once, as before.

Every row keeps its own claim, lease and fence: a stopping worker hands the runs it has not
started back (integrations/leases.py `hand_back`), the sender hands its unsent deliveries
back, and a run woken here but never resumed is rung for at the end (or, if the process
died, found by the dispatcher)."""

from time import monotonic

from integrations import leases
from integrations.deliveries import sender
from integrations.deliveries import services as ledger_services
from integrations.deliveries.choices import DUE_STATES
from integrations.deliveries.conf import MAX_CHUNK
from integrations.deliveries.models import Delivery
from integrations.runs import claims, doorbell, effects, outcomes, services
from integrations.runs.choices import RunStatus
from integrations.runs.models import Run

# Per round, the deliveries a worker sends itself before it leaves the rest to their queues:
# long enough for a batch's postings to a healthy target, short enough that a batch does not
# keep its runs from other worker processes.
INLINE_DELIVERY_SECONDS = 1.0
MAX_ROUNDS = 4  # run → deliver → resume → (another deliver step) …; more waits for the queue
# A batch is sized to take about this long: the broker's latency is paid per batch, and a
# message of a more urgent lane waits at most about this long for a worker process (plus
# the messages the worker has reserved, each a batch too).
BATCH_SECONDS = 0.25
_pace = {"seconds_per_run": 0.05}  # this process's recent cost of a run, all rounds included


def batch_limit() -> int:
    return max(1, min(claims.batch_size(), int(BATCH_SECONDS / max(_pace["seconds_per_run"], 0.001))))


def execute_lane(lane: str, *, limit: int | None = None, task_id: str = "") -> int:
    """Claim up to a batch of `lane`'s due runs and take them as far as this worker can.
    Returns how many runs were claimed."""
    started = monotonic()
    runs = claims.claim_batch(lane, limit or batch_limit())
    if runs:
        run_through(runs, task_id=task_id)
        took = (monotonic() - started) / len(runs)
        _pace["seconds_per_run"] = 0.7 * _pace["seconds_per_run"] + 0.3 * took
    return len(runs)


def run_through(runs: list[Run], *, task_id: str = "") -> None:
    """Execute claimed runs; send their deliveries here; resume the runs those woke, here."""
    budget_end = monotonic() + leases.task_budget_seconds()
    sent: set[int] = set()
    # The deliveries these runs request are sent here: their queue messages are held back and
    # sent at the end only for those this worker did not attempt.
    with doorbell.ringing_later() as woken, effects.worker_batch(), ledger_services.messages_held() as requested:
        try:
            batch = runs
            for _ in range(MAX_ROUNDS):
                waiting = execute_each(batch, budget_end)
                if not waiting or leases.stop_requested():
                    break
                sent |= deliver_here(waiting, task_id=task_id)
                ids = list(dict.fromkeys(woken))
                woken.clear()
                batch = claims.claim_ids(ids, known={run.pk: run for run in waiting})
                woken.extend(pk for pk in ids if pk not in {run.pk for run in batch})  # rung at the end
                if not batch:
                    break
        finally:
            ledger_services.ring(pair for pair in requested if pair[0] not in sent)


def execute_each(runs: list[Run], budget_end: float) -> list[Run]:
    """Execute each claimed run, file the deliveries they asked for together, then write
    their outcomes together (outcomes.apply_many); returns those now waiting for
    deliveries. Past the task budget, or once the worker is asked to stop, the runs not
    started are handed back."""
    waiting, ran, gathered = [], [], []
    for n, run in enumerate(runs):
        if leases.stop_requested() or (n and monotonic() > budget_end):
            leases.hand_back(Run, [r.pk for r in runs[n:]])
            break
        if services.is_batch_run(run):  # splits into chunks or finishes, writing as it goes
            done = services.execute_traced(run)
        else:
            with effects.gathering(gathered):
                done = run_engine(run)
        if isinstance(done, services.Ran):
            ran.append(done)
        elif done is not None and done.status == RunStatus.WAITING_DELIVERY:
            waiting.append(done)
    # A run told PENDING for a delivery another run had already finished goes again now.
    again = {id(e) for e in effects.file_gathered(gathered)}
    ran = [r if id(r.effects) not in again else run_engine(r.run) for r in ran]
    ran = [r for r in ran if isinstance(r, services.Ran)]  # a crash was written at once
    effects_of = {r.run.pk: r.effects for r in ran}
    for run in outcomes.apply_many([(r.run, r.outcome) for r in ran]):
        services.after_written(run, effects_of[run.pk])
        if run.status == RunStatus.WAITING_DELIVERY:
            waiting.append(run)
    return waiting


def run_engine(run: Run):
    with services.execution_span(run):
        return services.run_engine(run)


def deliver_here(runs: list[Run], *, task_id: str = "") -> set[int]:
    """Send the due deliveries of these runs from this worker, for up to the time allowance and
    only to connections that have not been failing. Whatever this worker does not send goes to
    its connection's queue (run_through rings for it); a delivery requested before this batch
    is on its queue already, and whatever this worker sends first, the queue's message finds
    done. Returns the ids attempted here."""
    here = list(
        Delivery.objects.select_related("connection")
        .filter(run_id__in=[run.pk for run in runs], state__in=DUE_STATES, connection__circuit_failures=0)
        .order_by("id")[:MAX_CHUNK]
    )
    # One open connector per connection for the round; the runs go with their deliveries.
    chunk = sender.Chunk(task_id, runs={run.pk: run for run in runs})
    for row in here:
        if row.run_id in chunk.runs:
            row.run = chunk.runs[row.run_id]
    try:
        return sender.deliver_round(here, chunk, seconds=INLINE_DELIVERY_SECONDS)
    finally:
        chunk.close()
