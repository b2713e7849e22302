"""What a mapping row shows when it is not being edited, and its preview cell, worked out once
in Python as plain dicts: the panel prints 200 of them, and the template engine spends far
more on an attribute chain, a property or a filter per row than Python does on the string
(docs/BENCHMARKS.md, issue 11). The templates only print these values."""

from urllib.parse import quote

from studio.ui.flows.panels.map_rows import BADGES, KINDS, Row

SOURCE_CHARS = 80  # the row's source, template or constant in one line
VALUE_CHARS = 200  # the value on the sample


def clip(text: str, limit: int) -> str:
    """Django's truncatechars: at most `limit` characters, the last one an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def preview_cell(row: Row) -> dict:
    """The preview cell: the engine's messages, else the value (or why there is none), and warnings."""
    preview = row.preview
    if row.errors:
        state, value = "errors", ""
    elif preview is not None and preview.present:
        state, value = "value", "null" if preview.value is None else clip(str(preview.value), VALUE_CHARS)
    elif preview is not None:
        state, value = "absent", ""
    else:
        state, value = ("" if row.mapped else "unmapped"), ""
    return {
        "slug": row.slug,
        "to": row.target.to,
        "state": state,
        "value": value,
        "errors": list(row.errors.items()),
        "warnings": row.warnings,
    }


def _via(mapping: dict) -> str:
    if mapping.get("value_map"):
        return f"via value map {mapping['value_map']}"
    crosswalk = mapping.get("crosswalk")
    if not crosswalk:
        return ""
    known = crosswalk if isinstance(crosswalk, dict) else {}
    optional = " (optional)" if known.get("optional") else ""
    if "to" in known:  # the reverse form: a canonical id → that system's id
        return f"canonical {known.get('object', '')} → {known.get('to', '')} id via crosswalk{optional}"
    return f"via crosswalk {known.get('object', '')}/{known.get('system', '')}{optional}"


def shown_row(row: Row) -> dict:
    """A row as the panel lists it: target, how it is filled, its preview cell."""
    mapping = row.field or {}
    kind = row.kind if row.mapped else ""
    return {
        **preview_cell(row),
        "to_query": quote(row.target.to),
        "required": row.target.required,
        "type": row.target.type,
        "mapped": row.mapped,
        "classes": "map-row" + (" row-error" if row.errors else "") + ("" if row.mapped else " unmapped"),
        "action": "Edit" if row.mapped else "Map",
        "kind": kind,
        "label": KINDS[kind] if kind else "",
        "badge": BADGES[kind] if kind else "",
        "source": clip(row.shown, SOURCE_CHARS) if kind else "",
        "via": _via(mapping) if kind else "",  # a template or field row may go through one too
        "convert": str(mapping.get("type") or ""),
    }
