"""Reads for the canonical pages: each object's fields with an example, and "where used" over
the flows' drafts and live versions."""

from dataclasses import dataclass

from integrations.canonical import registry
from integrations.canonical.fields import FieldInfo, field_list
from integrations.canonical.usage import Usage, where_used
from integrations.flows.models import FlowVersion

_FORMAT_EXAMPLES = {"date": "2026-03-01", "date-time": "2026-03-01T09:30:00Z", "email": "ada@example.com"}


@dataclass(frozen=True)
class FieldRow:
    info: FieldInfo
    example: object
    usages: list


def prop_at(schema: dict, path: str) -> dict:
    """The raw JSON Schema property at a field path from fields.walk ('a.b', 'rates[].role')."""
    node = schema
    for part in path.split("."):
        items = part.endswith("[]")
        node = (node.get("properties") or {}).get(part.removesuffix("[]"), {})
        if items:
            node = node.get("items") or {}
    return node


def example_of(info: FieldInfo, prop: dict):
    """The schema's own example, else the first allowed value or a value of the field's format;
    None (shown as a dash) rather than a made-up value."""
    if prop.get("examples"):
        return prop["examples"][0]
    if info.enum:
        return info.enum[0]
    return _FORMAT_EXAMPLES.get(info.constraints.get("format"))


def definitions_in_use() -> list[tuple[str, dict]]:
    """(label, definition) of every flow's draft and live version; label 'key draft' / 'key v3'."""
    versions = FlowVersion.objects.select_related("flow").order_by("flow__key", "-number")
    found, live_seen = [], set()
    for v in versions.only("flow__key", "state", "number", "definition"):
        if v.state == "draft":
            found.append((f"{v.flow.key} draft", v.definition))
        elif v.flow.key not in live_seen:  # newest published first: that is the live one
            live_seen.add(v.flow.key)
            found.append((f"{v.flow.key} v{v.number}", v.definition))
    return found


def usages(name: str, version: int) -> dict[str, list[Usage]]:
    return where_used(name, version, definitions_in_use())


def field_rows(name: str, version: int, query: str = "") -> list[FieldRow]:
    schema = registry.get_schema(name, version)
    used = usages(name, version)
    query = query.strip().lower()
    rows = []
    for info in field_list(name, version):
        if query and query not in info.path.lower() and query not in info.description.lower():
            continue
        found = [usage_dict(u) for u in used.get(info.path, [])]
        rows.append(FieldRow(info, example_of(info, prop_at(schema, info.path)), found))
    return rows


def flow_key(label: str) -> str:
    return label.rsplit(" ", 1)[0]


def usage_dict(usage: Usage) -> dict:
    return {
        "label": usage.flow,
        "key": flow_key(usage.flow),
        "step_id": usage.step_id,
        "location": usage.location,
        "mode": usage.mode,
    }
