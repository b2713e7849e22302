"""What a call of `POST /api/v1/flows/<key>/invoke` answers, as plain data.

Shared by the DRF view and the lean gateway (studio/api/invoke_gateway.py), so the two entry
points cannot drift apart: same status codes, same bodies, same headers."""

from dataclasses import dataclass, field

from integrations.runs.invoke import NotInvocable, invoke
from studio.api.errors import PROBLEM, problem_body

JSON = "application/json"


@dataclass
class Answer:
    status: int
    body: dict
    content_type: str = JSON
    headers: dict = field(default_factory=dict)


def problem_answer(status: int, detail: str, *, code: str = "", errors=None, headers=None) -> Answer:
    return Answer(status, problem_body(status, detail, code=code, errors=errors), PROBLEM, headers or {})


def not_active(key: str) -> Answer:
    return problem_answer(409, f"flow '{key}' has no active published version", code="not-active")


def answer(version, record: dict) -> Answer:
    """Run the flow on one record: 200 with the result; 422 naming every invalid field; 409
    when a step cannot answer at once; 503 with Retry-After when a lookup target is down."""
    try:
        result = invoke(version, record)
    except NotInvocable as exc:
        return problem_answer(409, str(exc), code="not-invocable")
    if result.status == "failed":
        return _failed(result.error or {})
    body = {
        "status": result.status,
        "record": result.record,
        "queued": result.queued,
        "delivered": result.delivered,
        "steps": result.steps,
    }
    return Answer(200, body)


def _failed(err: dict) -> Answer:
    if err.get("classification") == "transient":
        headers = {"Retry-After": str(int(err.get("retry_after") or 30))}
        return problem_answer(503, err.get("message") or "a system the flow reads from is unavailable", headers=headers)
    errors: dict[str, list[str]] = {}
    for item in err.get("details") or [{"field": err.get("field"), "message": err.get("message")}]:
        errors.setdefault(item.get("field") or "record", []).append(item.get("message") or "invalid")
    where = f"{err.get('step_id')}: " if err.get("step_id") else ""
    return problem_answer(422, where + (err.get("message") or "invalid"), code="invalid", errors=errors)
