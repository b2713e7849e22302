"""An engine Outcome (and its errors) as plain JSON: for the test-run panel and the API,
and for the runtime's step and run rows."""

import json


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
