"""The one door into the pure engine (integrations.engine) for the runtime: flows, runs and
triggers import engine names from here and nowhere else, so what the runtime relies on is
this short list, and an engine change that breaks it shows up in one file."""

from integrations.engine import (
    PENDING,
    ApprovalDecision,
    DefinitionInvalid,
    DeliveryResult,
    DryRunEffects,
    EffectError,
    compile_flow,
    configure_template_limits,
    runner,
    validate_definition,
)
from integrations.engine.cron import cron_problem
from integrations.engine.foreach import chunk_size, is_batch_flow, records_of

__all__ = [
    "PENDING",
    "ApprovalDecision",
    "DefinitionInvalid",
    "DeliveryResult",
    "DryRunEffects",
    "EffectError",
    "chunk_size",
    "compile_flow",
    "configure_template_limits",
    "cron_problem",
    "dry_run_effects",
    "errors_as_dicts",
    "is_batch_flow",
    "plan_for",
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
