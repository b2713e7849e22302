"""Run lifecycle: create, enqueue, claim with a lease and fencing token, execute the engine,
suspend or finish, resume when a delivery or an approval comes back.

docs/RELIABILITY.md §3: the database is the source of truth; Celery messages carry run ids only;
a claim is a conditional UPDATE that bumps `fence`, and every later write of the same
execution is conditional on that fence, so a worker that lost its lease writes nothing."""

import logging
import random

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations.engine.foreach import is_batch_flow
from integrations.flows.models import FlowVersion
from integrations.runs import outcomes
from integrations.runs.choices import RunStatus, Trigger
from integrations.runs.leases import claim_due
from integrations.runs.models import Run

log = logging.getLogger(__name__)

MAX_RUN_ATTEMPTS = 5  # transient engine-level failures (lookups); deliveries retry in the ledger


def business_key_of(event) -> str:
    return event.business_key or event.external_id


def start_runs_for_event(event, versions=None) -> list[Run]:
    """Inside the caller's transaction: one queued run per matching live version."""
    from integrations.flows.services import matching_versions

    if versions is None:
        versions = matching_versions(event.source, event.type)
    trigger = Trigger.POLL if event.source.startswith("poll:") else Trigger.EVENT
    runs = [
        Run.objects.create(
            flow_version=version,
            event=event,
            sequence=0,
            trigger=trigger,
            business_key=business_key_of(event),
            next_attempt_at=timezone.now(),
        )
        for version in versions
    ]
    enqueue_on_commit(runs)
    return runs


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
    run = Run.objects.create(
        flow_version=version,
        event=event,
        sequence=next_sequence(version, event),
        trigger=trigger,
        input=record,
        created_by=user,
        retry_of=retry_of,
        state=state,
        start_at=start_at or "",
        business_key=business_key or (business_key_of(event) if event else ""),
        item=item,
        next_attempt_at=timezone.now(),
    )
    enqueue_on_commit([run])
    return run


def start_manual_run(flow, user, record: dict) -> Run:
    from integrations.audit import services as audit

    version = flow.live_version
    if version is None:
        raise ValueError("the flow has no published version")
    with transaction.atomic():
        run = create_run(version, trigger=Trigger.MANUAL, record=record, user=user)
        audit.record(user, "run.start", run, message=f"manual run of {version}")
    return run


def enqueue_on_commit(runs) -> None:
    ids = [r.pk for r in runs]
    if ids:
        transaction.on_commit(lambda: enqueue(ids))


def enqueue(run_ids) -> None:
    """Ring the doorbell; if the broker is down the dispatcher finds the queued rows later."""
    from integrations.runs import tasks

    for run_id in run_ids:
        try:
            tasks.execute_run.apply_async((run_id,), expires=settings.SWITCHBOARD_LEASE_SECONDS)
        except Exception:  # broker unavailable: the row stays queued and is dispatched later
            log.warning("could not enqueue run %s; the dispatcher will pick it up", run_id)
            return
    Run.objects.filter(pk__in=run_ids).update(enqueued_at=timezone.now())


def claim(run_id: int) -> Run | None:
    """Conditional UPDATE: queued and due → running with a lease and a new fencing token."""
    now = timezone.now()
    claimed = claim_due(
        Run.objects.filter(pk=run_id),
        queued=RunStatus.QUEUED,
        running=RunStatus.RUNNING,
        now=now,
        started_at=Coalesce(F("started_at"), Value(now)),
    )
    return Run.objects.select_related("flow_version__flow", "event").get(pk=run_id) if claimed else None


def execute_run(run_id: int) -> Run | None:
    """Run (or resume) one run. Safe to call twice: the loser of the claim returns None."""
    from integrations.flows import engine_api
    from integrations.runs.effects import RuntimeEffects

    run = claim(run_id)
    if run is None:
        return None
    if run.chunked or (not run.item and is_batch_flow(run.flow_version.definition)):
        from integrations.runs import batch_runs

        return batch_runs.execute(run)
    effects = RuntimeEffects(run)
    try:
        plan = engine_api.plan_for(run.flow_version)
        outcome = engine_api.run(
            plan, run.record, effects, state=run.state, start_at=run.start_at or None, resume=run.resume
        )
    except Exception as exc:  # an engine or effect bug must become an exception, not a lost run
        log.exception("run %s crashed", run.pk)
        return outcomes.crash(run, exc)
    return outcomes.apply(run, outcome, effects)


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, never shorter than the target's Retry-After."""
    delay = random.uniform(0, min(600, 5 * 2**attempts))
    return max(delay, retry_after or 0)


def wake(run_id: int, *, from_statuses) -> bool:
    """A waiting run becomes due again (delivery done, approval decided, batch flushed)."""
    # attempts count transient failures of one stretch of work; a wake starts a new one.
    woke = Run.objects.filter(pk=run_id, status__in=from_statuses).update(
        status=RunStatus.QUEUED, next_attempt_at=timezone.now(), lease_until=None, attempts=0
    )
    if woke:
        enqueue_on_commit([Run(pk=run_id)])
    return bool(woke)


def on_delivery_finished(delivery_id: int) -> None:
    """Called by the ledger when a delivery reaches SUCCEEDED or DEAD.

    SUCCEEDED → the run resumes at the deliver step, whose effect now finds the delivery
    done and returns its result at once. DEAD → the run fails with an exception that
    carries the connector's classification and message."""
    from integrations.deliveries.models import Delivery
    from integrations.runs import exceptions

    delivery = Delivery.objects.select_related("run").get(pk=delivery_id)
    run = delivery.run
    if run is None:
        return
    if run.chunked:
        from integrations.runs import batch_runs

        batch_runs.on_delivery_finished(run, delivery)
        return
    with transaction.atomic():
        if _is_succeeded(delivery):
            wake(run.pk, from_statuses=[RunStatus.WAITING_DELIVERY])
            return
        failed = Run.objects.filter(pk=run.pk, status=RunStatus.WAITING_DELIVERY).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=_delivery_error(delivery)
        )
        if failed:
            run.refresh_from_db()
            exceptions.open_for_delivery(run, delivery)


def _is_succeeded(delivery) -> bool:
    return str(delivery.state).upper() == "SUCCEEDED"


def _delivery_error(delivery) -> dict:
    return {
        "step_id": delivery.step_id,
        "kind": "delivery",
        "message": getattr(delivery, "last_error", "") or "delivery failed",
        "classification": getattr(delivery, "classification", "") or "permanent",
    }
