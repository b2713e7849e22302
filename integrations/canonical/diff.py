"""Differences between two versions of a canonical object, with breaking changes marked.

A change is breaking when data valid for the old version can be invalid for the new one, or
when a consumer of the old version loses a field: a field removed, a field newly required, a
type or enum narrowed, a constraint tightened, null no longer allowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .fields import FieldInfo, walk
from .registry import get_schema

ChangeKind = Literal["added", "removed", "changed"]
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems")
_UPPER_BOUNDS = ("maximum", "maxLength")


@dataclass(frozen=True)
class Change:
    path: str
    kind: ChangeKind
    breaking: bool
    reason: str


def diff_schemas(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    before = {f.path: f for f in walk(old)}
    after = {f.path: f for f in walk(new)}
    changes: list[Change] = []
    for path in before.keys() - after.keys():
        changes.append(Change(path, "removed", True, "field removed"))
    for path in after.keys() - before.keys():
        field = after[path]
        reason = "new required field" if field.required else "new optional field"
        changes.append(Change(path, "added", field.required, reason))
    for path in before.keys() & after.keys():
        changes += _field_changes(before[path], after[path])
    return sorted(changes, key=lambda c: (c.path, c.reason))


def diff_versions(name: str, old_version: int, new_version: int) -> list[Change]:
    return diff_schemas(get_schema(name, old_version), get_schema(name, new_version))


def _field_changes(old: FieldInfo, new: FieldInfo) -> list[Change]:
    found: list[Change] = []

    def note(breaking: bool, reason: str) -> None:
        found.append(Change(new.path, "changed", breaking, reason))

    if set(old.types) != set(new.types):
        narrowed = not set(old.types) <= set(new.types)
        note(narrowed, f"type {'/'.join(old.types) or 'any'} → {'/'.join(new.types) or 'any'}")
    if new.required and not old.required:
        note(True, "now required")
    elif old.required and not new.required:
        note(False, "no longer required")
    if old.nullable and not new.nullable:
        note(True, "null no longer allowed")
    elif new.nullable and not old.nullable:
        note(False, "null now allowed")
    if old.enum != new.enum:
        removed = set(old.enum or ()) - set(new.enum or ()) if new.enum is not None else set()
        note(bool(removed) or (old.enum is None and new.enum is not None), _enum_reason(old.enum, new.enum))
    found += _constraint_changes(old, new)
    return found


def _enum_reason(old: tuple[Any, ...] | None, new: tuple[Any, ...] | None) -> str:
    if new is None:
        return "allowed values no longer restricted"
    if old is None:
        return f"values now restricted to {', '.join(map(str, new))}"
    removed = [str(v) for v in old if v not in new]
    added = [str(v) for v in new if v not in old]
    parts = ([f"values removed: {', '.join(removed)}"] if removed else []) + (
        [f"values added: {', '.join(added)}"] if added else []
    )
    return "; ".join(parts)


def _constraint_changes(old: FieldInfo, new: FieldInfo) -> list[Change]:
    found = []
    for key in sorted(old.constraints.keys() | new.constraints.keys()):
        before, after = old.constraints.get(key), new.constraints.get(key)
        if before == after:
            continue
        if before is None:
            breaking = True  # a new constraint can reject data that was valid
        elif after is None:
            breaking = False
        elif key in _LOWER_BOUNDS:
            breaking = after > before
        elif key in _UPPER_BOUNDS:
            breaking = after < before
        else:
            breaking = True  # pattern or format changed: cannot prove the old data still fits
        found.append(Change(new.path, "changed", breaking, f"{key} {before!r} → {after!r}"))
    return found
