"""What a test-run produced, in the shape a regression sample keeps as its expected output,
and the field-level difference between an expected and an actual output."""

from typing import Any

MISSING = "(missing)"


def output_of(result: dict) -> dict:
    """The parts of a test-run an analyst cares about: the run's status, the final record and
    the writes it would make (without their payload, which is the record); or the error."""
    if result.get("status") == "failed":
        error = result.get("error") or {}
        return {"status": "failed", "error": error.get("message", "failed"), "step": error.get("step_id")}
    deliveries = [
        {k: d.get(k) for k in ("connection", "object", "action", "key")} for d in result.get("deliveries") or []
    ]
    record = (result.get("state") or {}).get("record")
    return {"status": result.get("status"), "record": record, "deliveries": deliveries}


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": [1]}} → {"a.b[0]": 1}; an empty dict or list is kept as a leaf."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, child in value.items():
            out.update(flatten(child, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, child in enumerate(value):
            out.update(flatten(child, f"{prefix}[{index}]"))
        return out
    return {prefix or "$": value}


def field_diff(expected: Any, actual: Any) -> list[dict]:
    """[{"field", "expected", "actual"}] for every leaf that differs, in field order."""
    before, after = flatten(expected), flatten(actual)
    paths = list(before) + [p for p in after if p not in before]
    return [
        {"field": p, "expected": before.get(p, MISSING), "actual": after.get(p, MISSING)}
        for p in paths
        if before.get(p, MISSING) != after.get(p, MISSING) or (p in before) != (p in after)
    ]
