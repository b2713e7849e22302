"""The one place the runtime reaches into the pure engine (integrations.engine), so the
models, services and API depend on a handful of names only. Imports are lazy so that the
API's URL map loads even while the engine is being changed."""

from integrations.engine.errors import DefinitionInvalid  # noqa: F401


def validate_definition(definition) -> list:
    from integrations.engine import validate_definition as validate

    return validate(definition)


def compile_flow(definition):
    from integrations.engine import compile_flow as compile_

    return compile_(definition)


def run(plan, record, effects, **kwargs):
    from integrations.engine import runner

    return runner.run(plan, record, effects, **kwargs)


def dry_run_effects(**reads):
    """Simulated writes and approvals; `reads` = read-only lookup/crosswalk callables."""
    from integrations.engine import DryRunEffects

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
