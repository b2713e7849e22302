"""What stands between a draft and publishing, beyond the engine's own validation: the
connections a definition names must exist (a deleted connection is reported at the field
that names it, like any engine error)."""

from collections import OrderedDict

from integrations.connections.models import Connection
from integrations.flows import services

# Engine validation by content hash: a definition with a given hash always has the same engine
# errors, and validating a 200-field mapping costs more than the rest of an editor page.
_VALIDATED: OrderedDict[str, list[dict]] = OrderedDict()
_KEEP = 256


def engine_errors(definition, digest: str | None = None) -> list[dict]:
    if not digest:
        return services.validate(definition)
    if digest in _VALIDATED:
        _VALIDATED.move_to_end(digest)
    else:
        _VALIDATED[digest] = services.validate(definition)
        if len(_VALIDATED) > _KEEP:
            _VALIDATED.popitem(last=False)
    return [dict(e) for e in _VALIDATED[digest]]


def connection_fields(definition) -> list[tuple[str | None, str, str]]:
    """(step id, field, connection name) for every connection the definition names."""
    if not isinstance(definition, dict):
        return []
    found = []
    trigger = definition.get("trigger")
    if isinstance(trigger, dict) and isinstance(trigger.get("connection"), str):
        found.append((None, "trigger.connection", trigger["connection"]))
    steps = definition.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        if isinstance(step, dict) and isinstance(step.get("connection"), str):
            found.append((step.get("id"), f"steps[{i}].connection", step["connection"]))
    return found


def problems(definition, *, known: set[str] | None = None, digest: str | None = None) -> list[dict]:
    """Engine errors plus missing connections, as {step_id, field, message}; [] = publishable.
    `known`: the connection names, when the caller has them already (one query either way);
    `digest`: the definition's content hash (a stored version's), to reuse its validation."""
    errors = engine_errors(definition, digest)
    named = connection_fields(definition)
    if named:
        if known is None:
            known = set(Connection.objects.filter(name__in={n for _, _, n in named}).values_list("name", flat=True))
        for step_id, field, name in named:
            if name and name not in known:
                message = f"connection '{name}' does not exist (deleted or renamed?): pick another one"
                errors.append({"step_id": step_id, "field": field, "message": message})
    return errors
