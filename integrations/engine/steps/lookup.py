"""`lookup`: read one related record through a connection (e.g. the account of an opportunity).

The request is `{"connection", "object", "by": {field: rendered template}}`; the result is
available as `steps.<id>` and, with `into`, merged into the current record under that name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..context import RunContext
from ..errors import EffectError
from ..templating import CompiledTemplate
from ..where import Where
from .base import StepOutcome, fail, render_fields


@dataclass(frozen=True)
class LookupSpec:
    connection: str
    object: str
    by: dict[str, CompiledTemplate]
    required: bool
    into: str | None


def compile_step(raw: dict[str, Any], where: Where) -> LookupSpec | None:
    by = {name: where.at("by").template(name, source) for name, source in (raw.get("by") or {}).items()}
    if any(t is None for t in by.values()):
        return None
    return LookupSpec(raw["connection"], raw["object"], by, raw.get("required", True), raw.get("into"))  # type: ignore[arg-type]


def build_request(step: Any, ctx: RunContext) -> dict[str, Any]:
    spec: LookupSpec = step.spec
    by = render_fields(step.id, "lookup", spec.by, ctx.variables(), "by")
    return {"connection": spec.connection, "object": spec.object, "by": by}


def execute(step: Any, ctx: RunContext, effects: Any) -> StepOutcome:
    spec: LookupSpec = step.spec
    request = build_request(step, ctx)
    if not getattr(effects, "performs_lookups", True):
        return StepOutcome(output=None, detail={"request": request, "note": "lookup not performed in dry run"})
    try:
        found = effects.lookup(step, request)
    except EffectError as exc:
        message = f"{spec.object} lookup in {spec.connection} failed: {exc}"
        fail(step.id, "lookup", message, transient=exc.transient, retry_after=exc.retry_after)
    detail = {"request": request}
    if found is None and spec.required:
        fail(step.id, "lookup", f"no {spec.object} in {spec.connection} matches {request['by']}")
    if spec.into and isinstance(ctx.record, dict):
        return StepOutcome(output=found, record={**ctx.record, spec.into: found}, replace_record=True, detail=detail)
    return StepOutcome(output=found, detail=detail)
