"""`deliver`: one write to a target system through the runtime's idempotency ledger.

The payload is the current record; `key` renders the idempotency key (one key = one write,
ever). `external_id` (default: the key) is the value the target matches on for upserts in
`external_id_field`. PENDING suspends the run (reason "delivery"); the resume outcome is
the DeliveryResult as a dict, and later steps read `steps.<id>.remote_id`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..context import RunContext
from ..effects import PENDING, DeliveryRequest, DeliveryResult
from ..errors import EffectError, TemplateFailure
from ..templating import CompiledTemplate
from ..where import Where
from .base import StepOutcome, fail, to_json


@dataclass(frozen=True)
class DeliverSpec:
    connection: str
    object: str
    action: str
    key: CompiledTemplate
    external_id_field: str | None
    external_id: CompiledTemplate | None


def compile_step(raw: dict[str, Any], where: Where) -> DeliverSpec | None:
    key = where.template("key", raw.get("key"))
    external_id = where.template("external_id", raw["external_id"]) if "external_id" in raw else None
    if key is None or ("external_id" in raw and external_id is None):
        return None
    return DeliverSpec(raw["connection"], raw["object"], raw["action"], key, raw.get("external_id_field"), external_id)


def _render(step: Any, template: CompiledTemplate, ctx: RunContext, field: str) -> str:
    try:
        text = str(to_json(template(ctx.variables()))).strip()
    except (TemplateFailure, ValueError) as exc:
        fail(step.id, "delivery", f"{field}: {exc}", field)
    if not text or text == "None":
        fail(step.id, "delivery", f"{field} rendered empty; it must identify this write", field)
    return text


def build_request(step: Any, ctx: RunContext) -> DeliveryRequest:
    spec: DeliverSpec = step.spec
    if not isinstance(ctx.record, dict):
        fail(step.id, "delivery", "the current record is not an object; map it before delivering")
    key = _render(step, spec.key, ctx, "key")
    external_id = _render(step, spec.external_id, ctx, "external_id") if spec.external_id else key
    return DeliveryRequest(
        spec.connection,
        spec.object,
        spec.action,  # type: ignore[arg-type]  # the schema allows only create/update/upsert
        key,
        ctx.record,
        spec.external_id_field,
        external_id,
    )


def execute(step: Any, ctx: RunContext, effects: Any) -> StepOutcome:
    request = build_request(step, ctx)
    try:
        result = effects.deliver(step, request)
    except EffectError as exc:
        message = f"delivery to {request.connection} failed: {exc}"
        fail(step.id, "delivery", message, transient=exc.transient, retry_after=exc.retry_after)
    if result is PENDING:
        meta = {k: v for k, v in request.as_dict().items() if k != "payload"}
        return StepOutcome(output={"status": "pending", **meta}, control="suspend", suspend_reason="delivery")
    return finish(step, request.key, result)


def resume(step: Any, ctx: RunContext, outcome: dict[str, Any]) -> StepOutcome:
    if outcome.get("status") not in ("succeeded", "failed"):
        raise ValueError("a delivery resumes with status 'succeeded' or 'failed'")
    result = DeliveryResult(
        outcome["status"], outcome.get("remote_id"), str(outcome.get("response", "")), bool(outcome.get("simulated"))
    )
    return finish(step, outcome.get("key") or (ctx.steps.get(step.id) or {}).get("key"), result)


def finish(step: Any, key: str | None, result: DeliveryResult) -> StepOutcome:
    output = {"key": key, **result.as_dict()}
    if result.status == "failed":
        fail(step.id, "delivery", f"the target refused the write: {result.response or 'no detail'}")
    return StepOutcome(output=output, detail={"simulated": True} if result.simulated else None)
