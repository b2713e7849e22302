"""What a flow definition declares for ownership and the crosswalk (docs/FLOW_DEFINITION.md):

    "canonical": {"object": "worker", "source": "kantata", "id": "$.id"}     (top level)
    "canonical_fields": {"laborCost": "cost_rate"}                          (deliver step)
    "link": {"object": "client", "id": "$.AccountId"}                       (deliver step)

Read from the stored definition at run time (plain dicts: the engine ignores these keys)."""

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonpath_ng import parse


@dataclass(frozen=True)
class Declaration:
    object: str
    source: str  # connection name
    id_path: str


def declared(definition: dict | None) -> Declaration | None:
    spec = (definition or {}).get("canonical")
    if not isinstance(spec, dict) or not spec.get("object") or not spec.get("source"):
        return None
    return Declaration(str(spec["object"]), str(spec["source"]), str(spec.get("id") or ""))


def step_of(definition: dict | None, step_id: str) -> dict:
    for step in (definition or {}).get("steps") or []:
        if isinstance(step, dict) and step.get("id") == step_id:
            return step
    return {}


def canonical_field_map(definition: dict | None, step_id: str) -> dict[str, str]:
    """payload field → canonical field for one deliver step (missing = same name)."""
    fields = step_of(definition, step_id).get("canonical_fields")
    return {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else {}


def link_of(definition: dict | None, step_id: str) -> tuple[str, str] | None:
    """(canonical object, JSONPath to the source id) a deliver step's returned id is linked
    to, or None when the flow declares nothing to link."""
    decl = declared(definition)
    link = step_of(definition, step_id).get("link")
    if not isinstance(link, dict):
        if decl is None or not decl.id_path:
            return None
        link = {}
    object = str(link.get("object") or (decl.object if decl else ""))
    path = str(link.get("id") or (decl.id_path if decl else ""))
    return (object, path) if object and path else None


@lru_cache(maxsize=256)
def _compiled(path: str):
    return parse(path)


def value_at(path: str, record: Any) -> str | None:
    """The first value at a JSONPath, as a string; None when absent or empty."""
    if not path:
        return None
    try:
        found = _compiled(path).find(record)
    except Exception:  # a path the schema let through but jsonpath-ng cannot read
        return None
    if not found or found[0].value in (None, ""):
        return None
    return str(found[0].value)
