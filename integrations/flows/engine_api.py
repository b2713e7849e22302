"""The one door into the pure engine (integrations.engine) for the runtime: flows, runs and
triggers import engine names from here and nowhere else, so what the runtime relies on is
this short list, and an engine change that breaks it shows up in one file."""

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2.exceptions import TemplateSyntaxError

from integrations.engine import (
    PENDING,
    ApprovalDecision,
    DefinitionInvalid,
    DeliveryResult,
    DryRunEffects,
    EffectError,
    compile_flow,
    configure_template_limits,
    limits,
    runner,
    validate_definition,
)
from integrations.engine.coercion import COERCIONS
from integrations.engine.conditions import compile_condition
from integrations.engine.context import RunContext
from integrations.engine.cron import cron_problem
from integrations.engine.errors import DefinitionError, StepFailed
from integrations.engine.foreach import chunk_size, is_batch_flow, records_of
from integrations.engine.paths import MISSING
from integrations.engine.plan import Plan
from integrations.engine.steps import map as map_step
from integrations.engine.templating import compile_template, describe_failure
from integrations.engine.where import Where

__all__ = [
    "COERCION_NAMES",
    "PENDING",
    "ApprovalDecision",
    "DefinitionInvalid",
    "DeliveryResult",
    "DryRunEffects",
    "EffectError",
    "Preview",
    "check_condition",
    "chunk_size",
    "compile_flow",
    "configure_template_limits",
    "cron_problem",
    "definition_errors",
    "dry_run_effects",
    "errors_as_dicts",
    "evaluate_condition",
    "is_batch_flow",
    "plan_for",
    "preview_field",
    "preview_template",
    "records_of",
    "run",
    "step_id_of",
    "validate_definition",
]


def run(plan, record, effects, **kwargs):
    return runner.run(plan, record, effects, **kwargs)


def dry_run_effects(**reads) -> DryRunEffects:
    """Simulated writes and approvals; `reads` = read-only lookup/crosswalk callables."""
    return DryRunEffects(**reads)


def errors_as_dicts(errors) -> list[dict]:
    """DefinitionError(step_id, field, message) → JSON-ready dicts for the API and the UI."""
    return [{"step_id": e.step_id, "field": e.field, "message": e.message} for e in errors]


def plan_for(version):
    """Compiled plan of a version; the engine caches it by content hash. A published version
    is immutable, so its instance also keeps the plan: hot callers that hold the instance
    (the invoke path) skip hashing the definition on every record."""
    plan = version.__dict__.get("_compiled_plan")
    if plan is None:
        plan = compile_flow(version.definition)
        if version.is_published:
            version.__dict__["_compiled_plan"] = plan
    return plan


def step_id_of(step) -> str:
    """The id of a compiled step (or of a request that names its step)."""
    return getattr(step, "id", None) or getattr(step, "step_id", "")


# ---- the studio's step panels: preview one mapping row, one template, one condition ---------
# Each uses the engine's own compile and evaluation, so a preview shows exactly the value or the
# message a run would give; every evaluation runs inside the template limits of one step.

COERCION_NAMES = tuple(COERCIONS)


@dataclass(frozen=True)
class Preview:
    value: Any = None
    present: bool = False  # False: the field would be left out of the output
    error: str = ""  # the engine's message (compile or evaluation), "" when it worked
    error_field: str = ""  # the row's part at fault: from, template, constant, value_map, ...


def preview_field(field: dict, record: Any, value_maps: dict | None = None, crosswalk=None) -> Preview:
    """One map-step field evaluated on `record` as a map step would (source, template, value map,
    crosswalk, default, type, required). `crosswalk(object, system, id)` reads links; None says
    it was not looked up."""
    spec, problem = _compiled_row(json.dumps(field, sort_keys=True, default=str))
    if spec is None:
        return problem
    maps = value_maps if isinstance(value_maps, dict) else {}
    ctx = RunContext(Plan({}, (), maps, ""), record, record, {}, {}, dry_run=True)
    limits.start_step()
    try:
        out = spec.function(record, ctx, DryRunEffects(crosswalk=crosswalk))
    except StepFailed as exc:
        return Preview(error=exc.error.message.removeprefix(f"{field.get('to')}: "))
    except Exception as exc:  # a value map without the value, a template over its limits
        return Preview(error=describe_failure(exc))
    finally:
        limits.end_step()
    found = _dig(out, str(field.get("to", "")))
    return Preview(value=None if found is MISSING else found, present=found is not MISSING)


@lru_cache(maxsize=1024)
def _compiled_row(key: str) -> tuple[Any, Preview]:
    """A row compiled as a one-field map step, cached by its content: a panel re-drawn while the
    analyst works compiles only the rows that changed."""
    errors: list[DefinitionError] = []
    raw = {"id": "preview", "type": "map", "fields": [json.loads(key)]}
    try:
        spec = map_step.compile_step(raw, Where(errors, "preview", "fields"))
    except (KeyError, TypeError, AttributeError):  # a row the schema would refuse (the panel builds valid ones)
        return None, Preview(error="this row is not a valid mapping")
    if spec is None:
        first = errors[0] if errors else None
        part = first.field.rsplit(".", 1)[-1] if first and "." in first.field else ""
        return None, Preview(error=first.message if first else "this row cannot be compiled", error_field=part)
    return spec, Preview()


def definition_errors(definition: Any) -> list[dict]:
    """validate_definition's errors as dicts; a valid definition is answered from the compiled
    plan cache (a panel asks on every request, and most drafts do not change between them)."""
    if not isinstance(definition, dict):
        return errors_as_dicts(validate_definition(definition))
    try:
        compile_flow(definition)
    except DefinitionInvalid as exc:
        return errors_as_dicts(exc.errors)
    return []


def _dig(out: Any, to: str) -> Any:
    for key in to.split("."):
        if not isinstance(out, dict) or key not in out:
            return MISSING
        out = out[key]
    return out


def check_condition(source: str) -> str:
    """'' when `source` parses as a condition, else the engine's message."""
    try:
        compile_condition(source)
    except TemplateSyntaxError as exc:
        return f"condition does not parse: {exc.message}"
    except RecursionError:
        return "condition does not parse: it is nested too deeply"
    return ""


def evaluate_condition(source: str, record: Any) -> tuple[bool | None, str]:
    """(result, '') or (None, the engine's message) for a condition over a sample record."""
    if problem := check_condition(source):
        return None, problem
    limits.start_step()
    try:
        return compile_condition(source)({"record": record, "input": record, "steps": {}, "value_maps": {}}), ""
    except Exception as exc:
        return None, describe_failure(exc)
    finally:
        limits.end_step()


def preview_template(source: str, record: Any) -> tuple[Any, str]:
    """(rendered value, '') or (None, the engine's message) for a template over `record` (the
    approval summary, an approver's user template)."""
    try:
        template = compile_template(source)
    except TemplateSyntaxError as exc:
        return None, f"template does not compile: {exc.message} (line {exc.lineno})"
    except RecursionError:
        return None, "template does not compile: it is nested too deeply"
    limits.start_step()
    try:
        return template({"record": record, "input": record, "steps": {}, "value_maps": {}}), ""
    except Exception as exc:
        return None, describe_failure(exc)
    finally:
        limits.end_step()
