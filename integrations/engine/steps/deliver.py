"""`deliver`: one write to a target system through the runtime's idempotency ledger.

The payload is the current record; `key` renders the idempotency key (one key = one write,
ever). `external_id` (default: the key) is the value the target matches on for upserts in
`external_id_field`. PENDING suspends the run (reason "delivery"); the resume outcome is
the DeliveryResult as a dict, and later steps read `steps.<id>.remote_id`.

One write per item: `each` (a template rendering a list, e.g. `{{ steps.entries.records }}`)
makes the step request one write per item, `item` being the item in `key`, `external_id` and
`payload` (field -> template; without it the payload is the current record). `after` (an
earlier deliver step) ties the writes to that step's delivery: the runtime holds them until it
has succeeded (a one-record run reaches this step only once it has; a batch flow's writes are
held in the runtime and requested when it succeeds — integrations/runs/batch/held.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..context import RunContext
from ..effects import PENDING, DeliveryRequest, DeliveryResult
from ..errors import EffectError, TemplateFailure
from ..templating import CompiledTemplate
from ..where import Where
from .base import StepOutcome, fail, render_fields, to_json


@dataclass(frozen=True)
class DeliverSpec:
    connection: str
    object: str
    action: str
    key: CompiledTemplate
    external_id_field: str | None
    external_id: CompiledTemplate | None
    each: CompiledTemplate | None = None
    payload: dict[str, CompiledTemplate] | None = None
    after: str | None = None


def compile_step(raw: dict[str, Any], where: Where) -> DeliverSpec | None:
    key = where.template("key", raw.get("key"))
    external_id = where.template("external_id", raw["external_id"]) if "external_id" in raw else None
    each = where.template("each", raw["each"]) if "each" in raw else None
    payload = None
    if isinstance(raw.get("payload"), dict):
        payload = {name: where.at("payload").template(name, source) for name, source in raw["payload"].items()}
    if (
        key is None
        or ("external_id" in raw and external_id is None)
        or ("each" in raw and each is None)
        or (payload is not None and any(t is None for t in payload.values()))
    ):
        return None
    return DeliverSpec(raw["connection"], raw["object"], raw["action"], key, raw.get("external_id_field"),
                       external_id, each, payload, raw.get("after"))  # type: ignore[arg-type]  # fmt: skip


def _render(step: Any, template: CompiledTemplate, variables: dict[str, Any], field: str) -> str:
    try:
        text = str(to_json(template(variables))).strip()
    except (TemplateFailure, ValueError) as exc:
        fail(step.id, "delivery", f"{field}: {exc}", field)
    if not text or text == "None":
        fail(step.id, "delivery", f"{field} rendered empty; it must identify this write", field)
    return text


def _after_key(step: Any, ctx: RunContext) -> str | None:
    """The ledger key of the `after` step's delivery, which these writes wait for."""
    after = step.spec.after
    if after is None:
        return None
    done = ctx.steps.get(after)
    key = done.get("key") if isinstance(done, dict) else None
    if not key:
        fail(step.id, "delivery", f"after: step {after!r} made no delivery for these writes to wait for", "after")
    return str(key)


def build_request(step: Any, ctx: RunContext, item: Any = None, after: str | None = None) -> DeliveryRequest:
    spec: DeliverSpec = step.spec
    variables = ctx.variables(item=item) if spec.each is not None else ctx.variables()
    if spec.payload is not None:
        payload = render_fields(step.id, "delivery", spec.payload, variables, "payload")
    elif not isinstance(ctx.record, dict):
        fail(step.id, "delivery", "the current record is not an object; map it before delivering")
    else:
        payload = ctx.record
    key = _render(step, spec.key, variables, "key")
    external_id = _render(step, spec.external_id, variables, "external_id") if spec.external_id else key
    return DeliveryRequest(
        spec.connection,
        spec.object,
        spec.action,  # type: ignore[arg-type]  # the schema allows only create/update/upsert
        key,
        payload,
        spec.external_id_field,
        external_id,
        after,
    )


def send(step: Any, effects: Any, request: DeliveryRequest, which: str = "") -> Any:
    """The runtime's answer to one write (PENDING or a DeliveryResult); its refusal to take
    the write is the step's error (`which` names the write among several)."""
    try:
        return effects.deliver(step, request)
    except EffectError as exc:
        message = f"delivery to {request.connection} failed{which}: {exc}"
        fail(step.id, "delivery", message, transient=exc.transient, retry_after=exc.retry_after)


def _items(step: Any, ctx: RunContext) -> list[Any]:
    try:
        items = step.spec.each(ctx.variables())
    except TemplateFailure as exc:
        fail(step.id, "delivery", f"each: {exc}", "each")
    if not isinstance(items, list | tuple):
        fail(step.id, "delivery", f"each: renders a {type(items).__name__}, not a list", "each")
    return list(items)


def execute_each(step: Any, ctx: RunContext, effects: Any) -> StepOutcome:
    """One write per item of `each`, each with its own key; PENDING while any is pending."""
    after = _after_key(step, ctx)
    requests = [build_request(step, ctx, item, after) for item in _items(step, ctx)]
    pending = 0
    for request in requests:
        result = send(step, effects, request, f" ({request.key})")
        if result is PENDING:
            pending += 1
        elif result.status == "failed":
            fail(step.id, "delivery", f"the target refused the write {request.key}: {result.response or 'no detail'}")
    output = {"count": len(requests), "keys": [r.key for r in requests[:5]], "after": after}
    if pending:
        return StepOutcome(output={"status": "pending", "pending": pending, **output}, control="suspend",
                           suspend_reason="delivery")  # fmt: skip
    return StepOutcome(output={"status": "succeeded", **output})


def execute(step: Any, ctx: RunContext, effects: Any) -> StepOutcome:
    if step.spec.each is not None:
        return execute_each(step, ctx, effects)
    request = build_request(step, ctx, after=_after_key(step, ctx))
    result = send(step, effects, request)
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
