"""`batch`: collect records by a group key and continue once per flushed group.

`effects.batch` adds the record to the open batch of its rendered `group_key` and answers
PENDING (the run suspends, reason "batch"). The runtime flushes a batch when it holds `size`
records or its oldest is `max_wait_seconds` old, then resumes ONE run with
`{"batch_id", "records": [...]}`: that run continues with the record
`{"group_key", "batch_id", "count", "records"}`. Every other run of the batch is resumed
with `{"joined": <batch_id>}` and completes there, its later steps skipped.

In a batch flow (`for_each`) the groups are cut at the end of each run, unless the step has
an `item_key` (the record's identity, rendered with `record` only): then a group gathers
records across runs until `size` or `max_wait_seconds`, and a record whose key was filed
once is never filed again (integrations/runs/batch/accumulate.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..context import RunContext
from ..effects import PENDING
from ..errors import TemplateFailure
from ..templating import CompiledTemplate
from ..where import Where
from .base import StepOutcome, fail, to_json


@dataclass(frozen=True)
class BatchSpec:
    group_key: CompiledTemplate
    size: int
    max_wait_seconds: int
    item_key: CompiledTemplate | None = None

    def key_of(self, record: dict[str, Any]) -> str:
        """The identity of a record filed in a group that stays open across runs; ValueError
        when the template fails or renders nothing."""
        assert self.item_key is not None
        try:
            key = str(to_json(self.item_key({"record": record}))).strip()
        except TemplateFailure as exc:
            raise ValueError(f"item_key: {exc}") from exc
        if not key:
            raise ValueError("item_key: renders an empty key")
        return key


def compile_step(raw: dict[str, Any], where: Where) -> BatchSpec | None:
    group_key = where.template("group_key", raw.get("group_key"))
    item_key = where.template("item_key", raw["item_key"]) if raw.get("item_key") else None
    if not group_key or (raw.get("item_key") and item_key is None):
        return None
    return BatchSpec(group_key, raw["size"], raw["max_wait_seconds"], item_key)


def group_key(step: Any, ctx: RunContext) -> str:
    try:
        return str(to_json(step.spec.group_key(ctx.variables())))
    except (TemplateFailure, ValueError) as exc:
        fail(step.id, "mapping", f"group_key: {exc}", "group_key")
        raise AssertionError from exc  # unreachable


def execute(step: Any, ctx: RunContext, effects: Any) -> StepOutcome:
    key = group_key(step, ctx)
    if step.spec.item_key is not None:  # a record without an identity fails here, not at the flush
        try:
            step.spec.key_of(ctx.record)
        except ValueError as exc:
            fail(step.id, "mapping", str(exc), "item_key")
    answer = effects.batch(step, key, ctx.record)
    if answer is PENDING:
        return StepOutcome(output={"group_key": key, "status": "collecting"}, control="suspend", suspend_reason="batch")
    return resume(step, ctx, {**answer, "group_key": key})


def resume(step: Any, ctx: RunContext, outcome: dict[str, Any]) -> StepOutcome:
    key = outcome.get("group_key") or (ctx.steps.get(step.id) or {}).get("group_key")
    if outcome.get("joined"):
        output = {"group_key": key, "joined": outcome["joined"]}
        return StepOutcome(
            output=output, control="finish", detail={"reason": f"continued by batch {outcome['joined']}"}
        )
    records = outcome.get("records")
    if not isinstance(records, list):
        raise ValueError("a batch resumes with records (a list) or joined (a batch id)")
    flushed = {"group_key": key, "batch_id": outcome.get("batch_id"), "count": len(records), "records": records}
    return StepOutcome(output={k: v for k, v in flushed.items() if k != "records"}, record=flushed, replace_record=True)
