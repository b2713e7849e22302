"""One mapping row as the analyst fills it in → the field of a map step (never typed as JSON).

`parse_row(data, target_type)` returns (field, value_map_pairs, errors by input name). A
constant or default is read as the target's type (a number for a number field, true/false
for a boolean), a value map is written as lines `source = result`."""

import re

from studio.ui.flows.panels.common import clean_text
from studio.ui.flows.panels.map_rows import KINDS, TO

CONVERSIONS = ("", "string", "integer", "number", "boolean", "date", "datetime", "money")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
LIMITS = {"from": 500, "template": 20_000, "constant": 10_000, "default": 10_000, "pairs": 50_000}
MAX_PAIRS = 500
XW_DIRECTIONS = {"system": "system id → canonical id", "to": "canonical id → system id"}
_TRUE, _FALSE = {"true", "yes", "y", "1", "on"}, {"false", "no", "n", "0", "off"}


def typed(text: str, target_type: str, label: str) -> tuple[object, str]:
    """A constant typed as the target wants it; text otherwise."""
    if target_type in ("number", "integer", "money"):
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            return None, f"{label}: “{text[:40]}” is not a number"
        if number != number or number in (float("inf"), float("-inf")):
            return None, f"{label}: “{text[:40]}” is not a number"
        return (int(number) if number.is_integer() and "." not in text else number), ""
    if target_type == "boolean":
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE, ""
        return None, f"{label}: write true or false"
    return text, ""


def parse_pairs(text: str) -> tuple[dict, str]:
    pairs = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if "=" not in line:
            return {}, f"line {n}: write “source value = result”"
        key, value = (part.strip() for part in line.split("=", 1))
        if not key:
            return {}, f"line {n}: the source value is empty"
        pairs[key] = value
        if len(pairs) > MAX_PAIRS:
            return {}, f"at most {MAX_PAIRS} lines"
    if not pairs:
        return {}, "add at least one line “source value = result”"
    return pairs, ""


def parse_row(data, target_type: str = "") -> tuple[dict, dict | None, dict]:
    errors: dict[str, str] = {}

    def text(name: str, label: str, required: bool = False) -> str:
        value, error = clean_text(data.get(name), label=label, max_length=LIMITS.get(name, 200), required=required)
        if error:
            errors[name] = error
        return value

    to = text("to", "Target field", required=True)
    if to and not TO.match(to):
        errors["to"] = "Target field: letters, digits and _, dots for nested fields (e.g. address.city)"
    kind = data.get("kind") if data.get("kind") in KINDS else None
    if kind is None:
        errors["kind"] = f"Row kind: choose one of {', '.join(KINDS.values())}"
    field: dict = {"to": to}
    pairs = None
    source = text("from", "Source")
    if source and not source.startswith("$"):
        errors["from"] = "Source: a path into the record starts with $ (e.g. $.Account.Name)"
    if kind == "field":
        if not source:
            errors["from"] = "Source: pick a field of the sample record"
        field["from"] = source
    elif kind == "constant":
        constant = text("constant", "Constant", required=True)
        if constant:
            field["constant"], error = typed(constant, target_type, "Constant")
            if error:
                errors["constant"] = error
    elif kind == "template":
        template = text("template", "Template", required=True)
        if source:
            field["from"] = source
        field["template"] = template
    elif kind == "lookup":
        if not source:
            errors["from"] = "Source: pick the field whose value is looked up"
        field["from"] = source
        pairs = _lookup(data, field, errors, text)
    default = text("default", "Default")
    if default:
        field["default"], error = typed(default, target_type, "Default")
        if error:
            errors["default"] = error
    convert = data.get("type", "")
    if convert not in CONVERSIONS:
        errors["type"] = "Convert to: choose one of the listed types"
    elif convert:
        field["type"] = convert
    if data.get("required") in ("on", "true", "1"):
        field["required"] = True
    return field, pairs, errors


def _lookup(data, field: dict, errors: dict, text) -> dict | None:
    if data.get("lookup") == "crosswalk":
        field["crosswalk"] = _crosswalk(data, errors, text)
        return None
    if data.get("lookup") != "value_map":
        errors["lookup"] = "Lookup: choose a value map or the crosswalk"
        return None
    name = text("value_map", "Value map name", True)
    if name and not NAME.match(name):
        errors["value_map"] = "Value map name: letters, digits and _ (e.g. regions)"
    field["value_map"] = name
    pairs_text = text("pairs", "Value map")
    if not pairs_text:
        return None  # an existing value map, kept as it is
    pairs, error = parse_pairs(pairs_text)
    if error:
        errors["pairs"] = f"Value map: {error}"
    return pairs


def _crosswalk(data, errors: dict, text) -> dict:
    """`{object, system}` reads a system's id as the canonical id; `{object, to}` the other way
    (docs/FLOW_DEFINITION.md, map step); `optional` leaves the value missing without a link."""
    obj, system = text("xw_object", "Crosswalk object", True), text("xw_system", "System", True)
    for name, value in (("xw_object", obj), ("xw_system", system)):
        if value and not NAME.match(value):
            errors[name] = "letters, digits and _ only"
    direction = data.get("xw_direction") or "system"
    if direction not in XW_DIRECTIONS:
        errors["xw_direction"] = "Direction: choose one of " + ", ".join(f"“{d}”" for d in XW_DIRECTIONS.values())
    crosswalk = {"object": obj, ("to" if direction == "to" else "system"): system}
    if data.get("xw_optional") in ("on", "true", "1"):
        crosswalk["optional"] = True
    return crosswalk


def pairs_text(pairs) -> str:
    return "\n".join(f"{k} = {v}" for k, v in pairs.items()) if isinstance(pairs, dict) else ""


def row_values(mapping: dict | None) -> dict:
    """What the row's inputs show for a stored field."""
    mapping = mapping or {}
    xwalk = mapping.get("crosswalk") if isinstance(mapping.get("crosswalk"), dict) else {}
    return {
        "from": mapping.get("from", ""),
        "constant": _shown(mapping.get("constant")),
        "template": mapping.get("template", ""),
        "default": _shown(mapping.get("default")),
        "type": mapping.get("type", ""),
        "required": bool(mapping.get("required")),
        "lookup": "crosswalk" if xwalk else "value_map",
        "value_map": mapping.get("value_map", ""),
        "xw_object": xwalk.get("object", ""),
        "xw_system": xwalk.get("to", "") if "to" in xwalk else xwalk.get("system", ""),
        "xw_direction": "to" if "to" in xwalk else "system",
        "xw_optional": bool(xwalk.get("optional")),
    }


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
