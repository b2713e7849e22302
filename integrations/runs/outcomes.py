"""Turn an engine Outcome into rows: step runs in bulk, then the run's new status — all in
one transaction that only commits if this execution still holds the run's fencing token."""

import json
from datetime import timedelta
from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from integrations.runs.choices import Classification, RunStatus, StepStatus
from integrations.runs.models import Run, StepRun

SUSPENDED_STATUS = {
    "approval": RunStatus.WAITING_APPROVAL,
    "delivery": RunStatus.WAITING_DELIVERY,
    "batch": RunStatus.WAITING_BATCH,
}
STEP_STATUSES = {s.value for s in StepStatus}


class StaleFence(Exception):
    """Another execution claimed the run since this one started; nothing is written."""


def jsonable(value):
    """Engine data is plain JSON already; this guards the odd date or Decimal."""
    return json.loads(json.dumps(value, default=str)) if value is not None else None


def error_dict(error) -> dict | None:
    if error is None:
        return None
    fields = ("step_id", "kind", "message", "field", "classification")
    data = {name: getattr(error, name, None) for name in fields}
    data["retry_after"] = getattr(error, "retry_after", None)
    if getattr(error, "details", None):
        data["details"] = list(error.details)  # every violation of a validate step
    return jsonable(data)


def step_error(error) -> dict | None:
    """A StepResult's error is its message; an EngineError is accepted too."""
    if not error:
        return None
    return {"message": error} if isinstance(error, str) else error_dict(error)


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


def _guarded(run: Run, **fields) -> None:
    if not Run.objects.filter(pk=run.pk, fence=run.fence, status=RunStatus.RUNNING).update(**fields):
        raise StaleFence(run.pk)
    for key, value in fields.items():
        setattr(run, key, value)


def apply(run: Run, outcome, effects) -> Run | None:
    try:
        with transaction.atomic():
            _apply(run, outcome, effects)
    except StaleFence:
        return None
    if run.status == RunStatus.WAITING_DELIVERY:
        effects.wake_if_already_done()
    elif run.status == RunStatus.WAITING_BATCH:
        effects.flush_full_batches()
    return run


def _apply(run: Run, outcome, effects) -> None:
    from integrations.runs import exceptions

    now = timezone.now()
    StepRun.objects.bulk_create(step_rows(run, outcome.steps))
    state = jsonable(outcome.state)
    if outcome.status == "completed":
        _guarded(
            run, status=RunStatus.SUCCEEDED, state=state, output=state, finished_at=now, lease_until=None, error=None
        )
        exceptions.resolve_after_successful_retry(run)
    elif outcome.status == "suspended":
        _guarded(
            run,
            status=SUSPENDED_STATUS[outcome.suspend_reason],
            state=state,
            start_at=outcome.suspended_at or "",
            resume=None,
            lease_until=None,
        )
    elif outcome.status == "halted":
        _guarded(
            run,
            status=RunStatus.HALTED,
            state=state,
            finished_at=now,
            lease_until=None,
            error=error_dict(outcome.error),
        )
    else:
        _fail(run, outcome.error, state, now)


def _fail(run: Run, error, state, now) -> None:
    from integrations.runs import exceptions

    err = error_dict(error) or {"kind": "unknown", "message": "the run failed", "classification": "permanent"}
    if err.get("classification") == "transient" and run.attempts < run_max_attempts():
        from integrations.runs.services import backoff_seconds

        delay = backoff_seconds(run.attempts, err.get("retry_after"))
        _guarded(
            run, status=RunStatus.QUEUED, error=err, lease_until=None, next_attempt_at=now + timedelta(seconds=delay)
        )
        return
    classification = Classification.PERMANENT if err.get("classification") != "transient" else Classification.TRANSIENT
    # Keep the state at the failure so a retry can start from the failed step.
    _guarded(run, status=RunStatus.FAILED, error=err, state=state, finished_at=now, lease_until=None)
    exceptions.open_exception(
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


def run_max_attempts() -> int:
    from integrations.runs.services import MAX_RUN_ATTEMPTS

    return MAX_RUN_ATTEMPTS


def crash(run: Run, exc: Exception) -> Run | None:
    """An unexpected error in the engine or an effect: a permanent exception, never a loop."""
    message = f"{type(exc).__name__}: {exc}"[:2000]
    err = SimpleNamespace(step_id="", kind="internal", message=message, field="", classification="permanent")
    try:
        with transaction.atomic():
            _fail(run, err, run.state, timezone.now())
    except StaleFence:
        return None
    return run


def outcome_dict(outcome) -> dict:
    """An engine Outcome as JSON for the API and the test-run panel."""
    return {
        "status": outcome.status,
        "state": jsonable(outcome.state),
        "suspended_at": outcome.suspended_at,
        "suspend_reason": outcome.suspend_reason,
        "error": error_dict(outcome.error),
        "steps": [
            {
                "step_id": s.step_id,
                "type": s.type,
                "status": s.status,
                "input": jsonable(s.input),
                "output": jsonable(s.output),
                "error": step_error(s.error),
                "duration_ms": s.duration_ms,
                "detail": jsonable(getattr(s, "detail", None)),
            }
            for s in outcome.steps
        ],
    }
