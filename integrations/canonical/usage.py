"""Where a canonical object's fields are used by flow definitions ("where used").

Writes: the `to` of every field of a map step whose `target` is the object version. Reads:
`record.<field>` references in templates and conditions of the steps after such a map step,
and every field of a validate step whose `schema` is the object version."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from .diff import Change
from .fields import walk
from .registry import get_schema

_RECORD_REF = re.compile(r"\brecord\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)")
_TEXT_KEYS = ("when", "template", "key", "external_id", "summary", "group_key", "user")


@dataclass(frozen=True)
class Usage:
    flow: str  # the label the caller gave the definition (e.g. "Opportunity won v3")
    step_id: str
    location: str  # e.g. "steps[0].fields[3]"
    mode: Literal["writes", "reads", "validates"]


def _texts(value: Any, location: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, child in value.items():
            if key in _TEXT_KEYS and isinstance(child, str):
                yield f"{location}.{key}", child
            else:
                yield from _texts(child, f"{location}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _texts(child, f"{location}[{index}]")


def _known(field: str, paths: set[str]) -> str | None:
    while field and field not in paths:
        field = field.rpartition(".")[0]
    return field or None


def _step_usages(
    flow: str, step: dict[str, Any], i: int, ref: str, paths: set[str], mapped: bool
) -> Iterator[tuple[str, Usage]]:
    step_id = str(step.get("id", ""))
    if step.get("type") == "map" and step.get("target") == ref:
        for k, field in enumerate(step.get("fields") or []):
            if isinstance(field, dict) and (known := _known(str(field.get("to", "")), paths)):
                yield known, Usage(flow, step_id, f"steps[{i}].fields[{k}]", "writes")
    if step.get("type") == "validate" and step.get("schema") == ref:
        for path in paths:
            yield path, Usage(flow, step_id, f"steps[{i}].schema", "validates")
    if mapped:
        for location, text in _texts(step, f"steps[{i}]"):
            for match in _RECORD_REF.finditer(text):
                if known := _known(match[1], paths):
                    yield known, Usage(flow, step_id, location, "reads")


def where_used(name: str, version: int, flows: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, list[Usage]]:
    """Field path -> usages, over `(label, definition)` pairs; fields nobody uses are absent."""
    ref = f"{name}@{version}"
    paths = {f.path for f in walk(get_schema(name, version))}
    found: dict[str, list[Usage]] = {}
    for flow, definition in flows:
        mapped = False  # reads count only once the record is this object
        for i, step in enumerate(definition.get("steps") or []):
            if not isinstance(step, dict):
                continue
            for path, usage in _step_usages(flow, step, i, ref, paths, mapped):
                found.setdefault(path, []).append(usage)
            if step.get("type") == "map":  # a merge keeps the object, any other map replaces it
                mapped = step.get("target") == ref or (mapped and bool(step.get("merge")))
    return found


def affected_by(changes: Iterable[Change], usages: dict[str, list[Usage]]) -> dict[str, list[Usage]]:
    """For each breaking change, the usages it affects (what to show before publishing)."""
    return {c.path: usages[c.path] for c in changes if c.breaking and usages.get(c.path)}
