"""Turn an engine Outcome into rows: step runs in bulk, then the run's new status — all in
one transaction that only commits if this execution still holds the run's fencing token.

A transient failure requeues the run after a backoff (integrations/backoff.py) until
MAX_RUN_ATTEMPTS; any other failure, or the last attempt, opens an exception in the inbox."""

from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from integrations import backoff, leases
from integrations.flows.outcome_json import error_dict, jsonable, step_error
from integrations.runs.choices import Classification, RunStatus, StepStatus
from integrations.runs.inbox.opening import open_exception, resolve_after_successful_retry
from integrations.runs.models import Run, StepRun

# Attempts of one stretch of work that fails transiently (a lookup's timeout, 503, 429),
# for a one-record run and for each record of a batch run alike; deliveries retry in the ledger.
MAX_RUN_ATTEMPTS = 5

SUSPENDED_STATUS = {
    "approval": RunStatus.WAITING_APPROVAL,
    "delivery": RunStatus.WAITING_DELIVERY,
    "batch": RunStatus.WAITING_BATCH,
}
STEP_STATUSES = {s.value for s in StepStatus}


class StaleFence(Exception):
    """Another execution claimed the run since this one started; nothing is written."""


def step_rows(run: Run, steps) -> list[StepRun]:
    now = timezone.now()
    return [
        StepRun(
            run=run,
            step_id=s.step_id,
            type=s.type,
            status=s.status if s.status in STEP_STATUSES else StepStatus.FAILED,
            input=jsonable(s.input),
            output=jsonable(s.output),
            error=step_error(s.error),
            detail=jsonable(getattr(s, "detail", None)),
            duration_ms=s.duration_ms or 0,
            attempt=run.attempts,
            started_at=now,
        )
        for s in steps
    ]


def guarded(run: Run, **fields) -> None:
    """Write `fields` only while this execution holds the run (its fence, still running)."""
    if not Run.objects.filter(pk=run.pk, fence=run.fence, status=RunStatus.RUNNING).update(**fields):
        raise StaleFence(run.pk)
    for key, value in fields.items():
        setattr(run, key, value)


def apply(run: Run, outcome) -> Run | None:
    """Write the outcome; None when the run was claimed by another execution meanwhile."""
    try:
        with transaction.atomic():
            _apply(run, outcome)
    except StaleFence:
        return None
    return run


def apply_many(done: list[tuple[Run, object]]) -> list[Run]:
    """Write the outcomes of a worker's batch (runs/worker.py): the runs that succeeded,
    halted or now wait — nearly all of them — in one transaction of one fenced UPDATE per
    kind of outcome and one INSERT of every step row, instead of a transaction each. A run
    whose fence went stale is dropped, as `apply` drops it. A failure, or a retry that
    succeeded (it resolves an exception), is written by `apply` alone. Returns the runs
    written, in order."""
    now = timezone.now()
    simple: list[tuple[Run, object, dict]] = []
    written: dict[int, Run] = {}
    for run, outcome in done:
        fields = _status_fields(run, outcome, now)
        if fields is None or (outcome.status == "completed" and _retrying(run)):
            if apply(run, outcome) is not None:
                written[run.pk] = run
        else:
            simple.append((run, outcome, fields))
    if simple:
        with transaction.atomic():
            ok = leases.write_fenced_many(
                Run, [(run.pk, run.fence, fields) for run, _o, fields in simple], running=RunStatus.RUNNING
            )
            rows = [row for run, outcome, _f in simple if run.pk in ok for row in step_rows(run, outcome.steps)]
            StepRun.objects.bulk_create(rows, batch_size=500)
        for run, _outcome, fields in simple:
            if run.pk in ok:
                for key, value in fields.items():
                    setattr(run, key, value)
                written[run.pk] = run
    return [run for run, _outcome in done if run.pk in written]


def _retrying(run: Run) -> bool:
    # Only a retry, or a run that failed before (a dead delivery re-sent from the inbox),
    # can carry an exception being retried: the others need not look for one.
    return run.retry_of_id is not None or run.error is not None


def _status_fields(run: Run, outcome, now) -> dict | None:
    """The run's own fields an outcome writes; None for a failure (`fail` decides)."""
    state = jsonable(outcome.state)
    ends = {"state": state, "lease_until": None}  # every outcome but a failure
    if outcome.status == "completed":
        return {**ends, "status": RunStatus.SUCCEEDED, "output": state, "finished_at": now, "error": None}
    if outcome.status == "suspended":
        status = SUSPENDED_STATUS[outcome.suspend_reason]
        return {**ends, "status": status, "start_at": outcome.suspended_at or "", "resume": None}
    if outcome.status == "halted":
        return {**ends, "status": RunStatus.HALTED, "finished_at": now, "error": error_dict(outcome.error)}
    return None


def _apply(run: Run, outcome) -> None:
    now = timezone.now()
    StepRun.objects.bulk_create(step_rows(run, outcome.steps))
    fields = _status_fields(run, outcome, now)
    if fields is None:
        fail(run, outcome.error, jsonable(outcome.state), now)
        return
    retrying = _retrying(run)
    guarded(run, **fields)
    if outcome.status == "completed" and retrying:
        resolve_after_successful_retry(run)


def fail(run: Run, error, state, now) -> None:
    """Inside the caller's transaction: requeue after a backoff (transient, attempts left) or
    end the run failed with an exception."""
    err = error_dict(error) or {"kind": "unknown", "message": "the run failed", "classification": "permanent"}
    if err.get("classification") == "transient" and run.attempts < MAX_RUN_ATTEMPTS:
        due = backoff.next_attempt_at(run.attempts, retry_after=err.get("retry_after"), now=now)
        guarded(run, status=RunStatus.QUEUED, error=err, lease_until=None, next_attempt_at=due)
        return
    classification = Classification.PERMANENT if err.get("classification") != "transient" else Classification.TRANSIENT
    # Keep the state at the failure so a retry can start from the failed step.
    guarded(run, status=RunStatus.FAILED, error=err, state=state, finished_at=now, lease_until=None)
    open_exception(
        run,
        step_id=err.get("step_id") or "",
        classification=classification,
        kind=err.get("kind") or "",
        message=err.get("message") or "",
        field=err.get("field") or "",
        original_input=_failed_input(run, err),
    )


def _failed_input(run: Run, err: dict):
    step = StepRun.objects.filter(run=run, step_id=err.get("step_id") or "").order_by("-id").first()
    return step.input if step and step.input is not None else run.record


def crash(run: Run, exc: Exception) -> Run | None:
    """An unexpected error in the engine or an effect: a permanent exception, never a loop."""
    message = f"{type(exc).__name__}: {exc}"[:2000]
    err = SimpleNamespace(step_id="", kind="internal", message=message, field="", classification="permanent")
    try:
        with transaction.atomic():
            fail(run, err, run.state, timezone.now())
    except StaleFence:
        return None
    return run
