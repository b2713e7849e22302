"""Compare two flow definitions the way an analyst reads them: steps added, removed, moved or
changed (matched by step id), and inside a changed step the fields that differ, down to one
mapping row (map rows are matched by their target field `to`, not by position)."""

from dataclasses import dataclass, field


@dataclass
class StepChange:
    id: str
    type: str
    change: str  # added | removed | changed | moved | same
    fields: list = field(default_factory=list)  # [(path, before, after)]
    position: tuple = (None, None)


MISSING = "—"


def flatten(value, prefix: str = "") -> dict[str, object]:
    """{path: leaf}; lists of map rows are keyed by their `to`, other lists by position."""
    out: dict[str, object] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and value and all(isinstance(i, dict) and "to" in i for i in value):
        for item in value:
            out.update(flatten({k: v for k, v in item.items() if k != "to"}, f"{prefix}[{item['to']}]"))
            out.setdefault(f"{prefix}[{item['to']}]", "(row)")
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
    else:
        out[prefix] = value
    return out


def field_diff(before, after) -> list[tuple[str, object, object]]:
    a, b = flatten(before), flatten(after)
    return [
        (path, a.get(path, MISSING), b.get(path, MISSING))
        for path in sorted(set(a) | set(b))
        if a.get(path, MISSING) != b.get(path, MISSING)
    ]


def _steps(definition) -> list[dict]:
    steps = definition.get("steps") if isinstance(definition, dict) else None
    return [s for s in (steps if isinstance(steps, list) else []) if isinstance(s, dict)]


def compare(old: dict, new: dict) -> dict:
    old_steps, new_steps = _steps(old), _steps(new)
    old_by_id = {s.get("id"): (i, s) for i, s in enumerate(old_steps)}
    new_ids = {s.get("id") for s in new_steps}
    changes = []
    for j, step in enumerate(new_steps):
        sid = step.get("id")
        if sid not in old_by_id:
            changes.append(StepChange(str(sid), str(step.get("type")), "added", field_diff({}, step), (None, j)))
            continue
        i, before = old_by_id[sid]
        diff = field_diff(before, step)
        kind = (
            "changed"
            if diff
            else ("moved" if _rank(old_steps, sid, new_ids) != _rank(new_steps, sid, new_ids) else "same")
        )
        changes.append(StepChange(str(sid), str(step.get("type")), kind, diff, (i, j)))
    for i, step in enumerate(old_steps):
        if step.get("id") not in new_ids:
            changes.append(
                StepChange(str(step.get("id")), str(step.get("type")), "removed", field_diff(step, {}), (i, None))
            )
    rest_old = {k: v for k, v in (old or {}).items() if k != "steps"}
    rest_new = {k: v for k, v in (new or {}).items() if k != "steps"}
    return {
        "steps": changes,
        "other": field_diff(rest_old, rest_new),
        "counts": {c: sum(1 for s in changes if s.change == c) for c in ("added", "removed", "changed", "moved")},
    }


def _rank(steps: list[dict], sid, common: set) -> int:
    """Position among the steps both versions have, so an insertion elsewhere is not a move."""
    ids = [s.get("id") for s in steps if s.get("id") in common]
    return ids.index(sid) if sid in ids else -1
