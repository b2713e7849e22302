"""`approve`: wait for a person's decision.

Asks `effects.approve`; PENDING suspends the run (reason "approval"). On resume or an
immediate decision: approved continues; rejected stops the run (`on_reject: stop`, status
"halted") or jumps forward to the step named by `on_reject`, skipping the steps between."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..context import RunContext
from ..effects import PENDING, ApprovalDecision, ApprovalRequest
from ..errors import TemplateFailure
from ..templating import CompiledTemplate
from ..where import Where
from .base import StepOutcome, fail, to_json


@dataclass(frozen=True)
class ApproveSpec:
    approvers: dict[str, Any]
    user_template: CompiledTemplate | None
    policy: str
    sla_hours: float | None
    on_expiry: str
    on_reject: str
    summary: CompiledTemplate | None


def compile_step(raw: dict[str, Any], where: Where) -> ApproveSpec | None:
    approvers = raw.get("approvers") or ({"group": raw["group"]} if raw.get("group") else None)
    if approvers is None:
        where.error("approvers", "say who approves: approvers.group, approvers.users or approvers.user (or group)")
        return None
    if raw.get("group") and raw.get("approvers"):
        where.error("group", "use either group or approvers, not both")
        return None
    user = where.at("approvers").template("user", approvers["user"]) if "user" in approvers else None
    summary = where.template("summary", raw["summary"]) if "summary" in raw else None
    if ("user" in approvers and user is None) or ("summary" in raw and summary is None):
        return None
    return ApproveSpec(
        approvers=approvers,
        user_template=user,
        policy=raw.get("policy", "any"),
        sla_hours=raw.get("sla_hours"),
        on_expiry=raw.get("on_expiry", "escalate"),
        on_reject=raw.get("on_reject", "stop"),
        summary=summary,
    )


def _render(step: Any, template: CompiledTemplate, ctx: RunContext, field: str) -> str:
    try:
        return str(to_json(template(ctx.variables())))
    except (TemplateFailure, ValueError) as exc:
        fail(step.id, "rule", f"{field}: {exc}", field)
        raise AssertionError from exc  # unreachable: fail() raises


def build_request(step: Any, ctx: RunContext) -> ApprovalRequest:
    spec: ApproveSpec = step.spec
    approvers = dict(spec.approvers)
    if spec.user_template is not None:
        approvers["user"] = _render(step, spec.user_template, ctx, "approvers.user")
    summary = _render(step, spec.summary, ctx, "summary") if spec.summary else f"Approve: {step.name}"
    record = ctx.record if isinstance(ctx.record, dict) else {"value": ctx.record}
    return ApprovalRequest(step.id, approvers, spec.policy, spec.sla_hours, spec.on_expiry, summary, record)  # type: ignore[arg-type]


def execute(step: Any, ctx: RunContext, effects: Any) -> StepOutcome:
    request = build_request(step, ctx)
    answer = effects.approve(step, request)
    if answer is PENDING:
        summary = {k: v for k, v in request.as_dict().items() if k != "record"}
        return StepOutcome(output={"request": summary}, control="suspend", suspend_reason="approval")
    outcome = decide(step, answer)
    if ctx.dry_run:
        outcome.detail = {**(outcome.detail or {}), "note": "would wait for approval", "approvers": request.approvers}
    return outcome


def resume(step: Any, ctx: RunContext, outcome: dict[str, Any]) -> StepOutcome:
    if outcome.get("outcome") not in ("approved", "rejected"):
        raise ValueError("an approval resumes with outcome 'approved' or 'rejected'")
    return decide(step, ApprovalDecision(outcome["outcome"], outcome.get("by", ""), outcome.get("comment", "")))


def decide(step: Any, decision: ApprovalDecision) -> StepOutcome:
    spec: ApproveSpec = step.spec
    output = decision.as_dict()
    if decision.outcome == "approved":
        return StepOutcome(output=output)
    if spec.on_reject == "stop":
        return StepOutcome(output=output, control="halt", detail={"reason": f"rejected by {decision.by or 'approver'}"})
    return StepOutcome(output=output, control="jump", jump_to=spec.on_reject)
