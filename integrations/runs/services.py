"""Run core: create a run, claim it with a lease and fencing token, execute the engine on it,
and write what happened (outcomes.py). Read top to bottom, one run's path is:

    create_run / start_runs_for_event → (doorbell) → execute_run → claim
        → batch flow: batch/runs.execute (split into chunks, or finish)
        → otherwise: engine → outcomes.apply → resume.catch_up / collect.maybe_flush

The database is the source of truth (docs/ARCHITECTURE.md, runtime contract): Celery
messages carry run ids only; a claim is a conditional UPDATE that bumps `fence`, and every
later write of the same execution is conditional on that fence, so a worker that lost its
lease writes nothing."""

import logging

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from integrations import leases, tracing
from integrations.crosswalk import declaration
from integrations.deliveries import services as ledger_services
from integrations.flows import engine_api
from integrations.flows.models import FlowVersion
from integrations.flows.services import matching_versions
from integrations.health.services import note_redelivery
from integrations.runs import doorbell, lanes, outcomes, resume
from integrations.runs.batch import collect
from integrations.runs.batch import runs as batch_runs
from integrations.runs.choices import RunStatus, Trigger
from integrations.runs.effects import RuntimeEffects
from integrations.runs.models import Run

log = logging.getLogger(__name__)


def business_key_of(event, version=None) -> str:
    """What the run list finds a run by: the source record's id when the flow declares it
    (`canonical.id`, a JSONPath into the event's payload: an opportunity's id, not the event's),
    else the event's own business key or id."""
    declared = declaration.declared(version.definition) if version is not None else None
    if declared and declared.id_path and event is not None:
        found = declaration.value_at(declared.id_path, event.payload)
        if found:
            return found[:200]
    return event.business_key or event.external_id


def start_runs_for_event(event, versions=None, **_) -> list[Run]:
    """events/hooks.py, inside the transaction that stored the event: one queued run per
    matching live version (or per version of `versions`, for a poll)."""
    if versions is None:
        versions = matching_versions(event.source, event.type)
    trigger = Trigger.POLL if event.source.startswith("poll:") else Trigger.EVENT
    now = timezone.now()
    stamp = _enqueued_at(now)
    runs = [
        Run.objects.create(
            flow_version=version,
            event=event,
            sequence=0,
            trigger=trigger,
            lane=lanes.for_new_run(trigger),
            business_key=business_key_of(event, version),
            next_attempt_at=now,
            enqueued_at=stamp,
        )
        for version in versions
    ]
    doorbell.enqueue_runs_on_commit(runs, stamped=stamp is not None)
    return runs


def _enqueued_at(now):
    """A run rung on commit is written with its `enqueued_at` (the ring clears it if the
    message cannot be sent), which saves an UPDATE per run. The price: if the process dies
    between the commit and the ring, the dispatcher sends the run after its redispatch
    interval instead of at its next pass. A run a worker collects to run itself is left
    without one, so the dispatcher's next pass finds it if that worker dies."""
    return now if doorbell.rings_on_commit() else None


def next_sequence(version: FlowVersion, event) -> int:
    if event is None:
        return 0
    top = Run.objects.filter(flow_version=version, event=event).aggregate(n=Max("sequence"))["n"]
    return 0 if top is None else top + 1


@transaction.atomic
def create_run(
    version: FlowVersion,
    *,
    trigger: str,
    event=None,
    record=None,
    user=None,
    retry_of=None,
    state=None,
    start_at: str = "",
    business_key: str = "",
    item: str = "",
) -> Run:
    """A queued run of a published version (manual, schedule, poll, retry, replay)."""
    if not version.is_published:
        raise ValueError("only a published version can run; publish the draft first")
    now = timezone.now()
    stamp = _enqueued_at(now)
    run = Run.objects.create(
        flow_version=version,
        event=event,
        sequence=next_sequence(version, event),
        trigger=trigger,
        lane=lanes.for_new_run(trigger),
        input=record,
        created_by=user,
        retry_of=retry_of,
        state=state,
        start_at=start_at or "",
        business_key=business_key or (business_key_of(event, version) if event else ""),
        item=item,
        next_attempt_at=now,
        enqueued_at=stamp,
    )
    doorbell.enqueue_runs_on_commit([run], stamped=stamp is not None)
    return run


def claim(run_id: int) -> Run | None:
    """Queued and due → running with a lease and a new fencing token (integrations/leases.py);
    the first claim stamps `started_at`."""
    claimed = leases.claim(
        Run,
        run_id,
        now=timezone.now(),
        queued=[RunStatus.QUEUED],
        running=RunStatus.RUNNING,
        also={"started_at": "COALESCE(started_at, %(now)s)", "lane": f"'{lanes.INTERACTIVE}'"},
    )
    return Run.objects.select_related("flow_version__flow", "event").get(pk=run_id) if claimed else None


def execute_run(run_id: int, *, redelivered: bool = False, hostname: str = "") -> Run | None:
    """Run (or resume) one run. Safe to call twice: the loser of the claim returns None.
    `redelivered`: the broker handed this message back; finding the run still leased by a
    live execution then is noted for /healthz (a visibility timeout shorter than the task)."""
    run = claim(run_id)
    if run is None:
        if redelivered:
            note_if_leased(Run, "run", run_id, running=RunStatus.RUNNING, hostname=hostname)
        return None
    return execute_traced(run)


def execute_traced(run: Run) -> Run | None:
    with execution_span(run):
        return execute_claimed(run)


def execution_span(run: Run):
    """One span per execution, in the run's own trace (integrations/tracing.py)."""
    return tracing.run_span("run.execute", run.pk, flow=run.flow_version.flow.key, attempt=run.attempts)


def execute_claimed(run: Run) -> Run | None:
    """The execution of a run this worker has just claimed (execute_run, worker.py)."""
    if is_batch_run(run):
        return batch_runs.execute(run)
    ran = run_engine(run)
    if not isinstance(ran, Ran):
        return ran
    if outcomes.apply(run, ran.outcome) is None:
        return None  # another execution claimed the run meanwhile: nothing was written
    return after_written(run, ran.effects)


class Ran:
    """The engine's pass over a claimed run, not written yet (outcomes.apply, apply_many)."""

    __slots__ = ("effects", "outcome", "run")

    def __init__(self, run: Run, outcome, effects: RuntimeEffects):
        self.run, self.outcome, self.effects = run, outcome, effects


def is_batch_run(run: Run) -> bool:
    return run.chunked or (not run.item and engine_api.is_batch_flow(run.flow_version.definition))


def run_engine(run: Run) -> Ran | Run | None:
    """The engine over a claimed one-record run. A crash is written at once (the run, or None
    if its fence went stale); otherwise the outcome is for the caller to write."""
    effects = RuntimeEffects(run)
    try:
        plan = engine_api.plan_for(run.flow_version)
        engine_started = tracing.now_ns()
        outcome = engine_api.run(
            plan, run.record, effects, state=run.state, start_at=run.start_at or None, resume=run.resume
        )
        tracing.step_spans(run.pk, outcome.steps, engine_started)
    except leases.DATABASE_ERRORS:
        raise  # not the run's fault: the task gives the run back (leases.holding)
    except Exception as exc:  # an engine or effect bug must become an exception, not a lost run
        log.exception("run %s crashed", run.pk)
        return outcomes.crash(run, exc)
    return Ran(run, outcome, effects)


def after_written(run: Run, effects: RuntimeEffects) -> Run:
    """What follows a written outcome: a delivery that finished before the run was marked
    waiting resumes it now; a batch it joined may be due to flush."""
    if run.status == RunStatus.WAITING_DELIVERY:
        resume.catch_up(ledger_services.unheld(effects.pending_delivery_ids))
    elif run.status == RunStatus.WAITING_BATCH:
        for batch_id in effects.batch_ids:
            collect.maybe_flush(batch_id)
    return run


def note_if_leased(model, kind: str, pk: int, *, running: str, hostname: str = "") -> bool:
    """A redelivered message whose row is still claimed by a live execution: note it."""
    held = leases.held_for(model, pk, running=running, now=timezone.now())
    if held is None:
        return False
    note_redelivery(kind, pk, held_seconds=held, hostname=hostname)
    return True
