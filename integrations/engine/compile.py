"""Compile a flow definition into a `Plan`, once per content, reused for every record.

`compile_flow(defn)` is cached by a hash of the definition's content, so calling it per
record costs one JSON dump and a dict look-up. `validate_definition(defn)` runs the same
analysis and returns every problem instead of a plan."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .canonical_decl import check as check_canonical
from .cron import cron_problem
from .definition import schema_errors
from .errors import DefinitionError, DefinitionInvalid
from .foreach import check as check_for_each
from .plan import CompiledStep, Plan
from .steps import KINDS
from .steps.map import check_value_maps
from .where import Where

CACHE_SIZE = 256
Compiled = tuple[int, dict[str, Any], Any, Any]  # (index, raw step, compiled when, spec)
_cache: OrderedDict[str, Plan] = OrderedDict()
_lock = threading.Lock()


def content_hash(defn: dict[str, Any]) -> str:
    try:
        text = json.dumps(defn, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):  # not JSON (e.g. non-string keys): still hash it, it will not compile
        text = repr(defn)
    return hashlib.sha256(text.encode()).hexdigest()


def compile_flow(defn: dict[str, Any]) -> Plan:
    """The plan for `defn`; raises DefinitionInvalid listing every error."""
    key = content_hash(defn)
    with _lock:
        plan = _cache.get(key)
        if plan is not None:
            _cache.move_to_end(key)
            return plan
    plan, errors = analyse(defn)
    if plan is None:
        raise DefinitionInvalid(errors)
    with _lock:
        _cache[key] = plan
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return plan


def validate_definition(defn: dict[str, Any]) -> list[DefinitionError]:
    """Every problem of the definition (empty list = valid); never raises on bad input."""
    return analyse(defn)[1]


def analyse(defn: Any) -> tuple[Plan | None, list[DefinitionError]]:
    errors = schema_errors(defn)
    if not isinstance(defn, dict):
        return None, errors
    broken = {e.field.split("]")[0] + "]" for e in errors if e.field.startswith("steps[")}
    raw_steps: list[Any] = defn["steps"] if isinstance(defn.get("steps"), list) else []
    _check_trigger(defn.get("trigger"), errors)
    check_for_each(defn, errors)
    check_canonical(defn, errors)
    value_maps: dict[str, Any] = defn["value_maps"] if isinstance(defn.get("value_maps"), dict) else {}
    ids = _check_ids(raw_steps, errors)
    compiled: list[Compiled] = []
    for i, raw in enumerate(raw_steps):
        if f"steps[{i}]" in broken or not isinstance(raw, dict):
            continue
        where = Where(errors, raw["id"], f"steps[{i}]")
        when = where.condition("when", raw["when"]) if "when" in raw else None
        spec = KINDS[raw["type"]].compile_step(raw, where)
        if raw["type"] == "map":
            check_value_maps(raw, value_maps, where)
        compiled.append((i, raw, when, spec))
    gated = _check_routes(compiled, ids, errors)
    _check_jumps(compiled, ids, errors)
    _check_after(compiled, ids, errors)
    if errors:
        return None, errors
    steps = tuple(
        CompiledStep(
            raw["id"],
            raw["type"],
            i,
            raw,
            when,
            gated.get(raw["id"]),
            spec,
            KINDS[raw["type"]].execute,
            getattr(spec, "transform", None),
            when is not None or getattr(spec, "needs_context", True),  # a path-only map renders nothing
        )
        for i, raw, when, spec in compiled
    )
    trigger = dict(defn["trigger"])
    return Plan(trigger, steps, value_maps, content_hash(defn)), []


def _check_trigger(trigger: Any, errors: list[DefinitionError]) -> None:
    if not isinstance(trigger, dict):
        return
    if isinstance(trigger.get("cron"), str) and (problem := cron_problem(trigger["cron"])):
        errors.append(DefinitionError(None, "trigger.cron", problem))
    if isinstance(trigger.get("timezone"), str):
        try:
            ZoneInfo(trigger["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(DefinitionError(None, "trigger.timezone", f"unknown time zone {trigger['timezone']!r}"))


def _check_ids(raw_steps: list[Any], errors: list[DefinitionError]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for i, raw in enumerate(raw_steps):
        step_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(step_id, str):
            continue
        if step_id in ids:
            errors.append(
                DefinitionError(
                    step_id, f"steps[{i}].id", f"step id {step_id!r} is already used by steps[{ids[step_id]}]"
                )
            )
        else:
            ids[step_id] = i
    return ids


def _target_error(
    errors: list[DefinitionError], step_id: str, field: str, target: str, ids: dict[str, int], index: int
) -> bool:
    if target not in ids:
        errors.append(DefinitionError(step_id, field, f"there is no step {target!r}"))
    elif ids[target] <= index:
        errors.append(
            DefinitionError(step_id, field, f"step {target!r} must come after this step (steps run top to bottom)")
        )
    else:
        return True
    return False


def _check_routes(compiled: list[Compiled], ids: dict[str, int], errors: list[DefinitionError]) -> dict[str, str]:
    gated: dict[str, str] = {}
    for i, raw, _when, spec in compiled:
        if raw["type"] != "route" or spec is None:
            continue
        places = [(f"steps[{i}].rules[{k}].to", rule.to) for k, rule in enumerate(spec.rules)]
        places.append((f"steps[{i}].otherwise", spec.otherwise))
        for field, targets in places:
            for target in targets:
                if not _target_error(errors, raw["id"], field, target, ids, i):
                    continue
                owner = gated.setdefault(target, raw["id"])
                if owner != raw["id"]:
                    errors.append(
                        DefinitionError(raw["id"], field, f"step {target!r} is already a target of route {owner!r}")
                    )
    return gated


def _check_jumps(compiled: list[Compiled], ids: dict[str, int], errors: list[DefinitionError]) -> None:
    for i, raw, _when, _spec in compiled:
        target = raw.get("on_reject")
        if raw["type"] == "approve" and target and target != "stop":
            _target_error(errors, raw["id"], f"steps[{i}].on_reject", target, ids, i)


def _check_after(compiled: list[Compiled], ids: dict[str, int], errors: list[DefinitionError]) -> None:
    """A deliver step's `after` names an earlier deliver step (the write it waits for)."""
    kinds = {raw["id"]: raw["type"] for _i, raw, _when, _spec in compiled}
    for i, raw, _when, _spec in compiled:
        target = raw.get("after") if raw["type"] == "deliver" else None
        if not target:
            continue
        field = f"steps[{i}].after"
        if target not in ids or ids[target] >= i:
            errors.append(DefinitionError(raw["id"], field, f"after: {target!r} is not an earlier step"))
        elif kinds.get(target) != "deliver":
            errors.append(DefinitionError(raw["id"], field, f"after: step {target!r} is not a deliver step"))
