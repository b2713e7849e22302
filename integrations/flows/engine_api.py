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
    """Compiled plan of a version; the engine caches it by content hash."""
    return compile_flow(version.definition)
