"""The fields of a canonical object version as a flat list, for the schema browser."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .registry import get_schema


@dataclass(frozen=True)
class FieldInfo:
    path: str  # dotted, e.g. "billing_address.city"; list items as "rates[].role"
    types: tuple[str, ...]
    required: bool
    nullable: bool
    description: str
    enum: tuple[Any, ...] | None
    constraints: dict[str, Any]  # pattern, format, minimum, maxLength, ...


_CONSTRAINTS = ("format", "pattern", "minimum", "maximum", "exclusiveMinimum", "minLength", "maxLength", "minItems")


def _types(prop: dict[str, Any]) -> tuple[str, ...]:
    declared = prop.get("type", ())
    return tuple(declared) if isinstance(declared, list) else ((declared,) if declared else ())


def walk(schema: dict[str, Any], prefix: str = "") -> Iterator[FieldInfo]:
    required = set(schema.get("required", ()))
    for name, prop in (schema.get("properties") or {}).items():
        path = f"{prefix}{name}"
        types = _types(prop)
        enum = tuple(v for v in prop["enum"] if v is not None) if "enum" in prop else None
        yield FieldInfo(
            path=path,
            types=tuple(t for t in types if t != "null"),
            required=name in required,
            nullable="null" in types,
            description=prop.get("description", ""),
            enum=enum,
            constraints={k: prop[k] for k in _CONSTRAINTS if k in prop},
        )
        if "object" in types and "properties" in prop:
            yield from walk(prop, f"{path}.")
        items = prop.get("items")
        if "array" in types and isinstance(items, dict) and "properties" in items:
            yield from walk(items, f"{path}[].")


def field_list(name: str, version: int) -> list[FieldInfo]:
    return list(walk(get_schema(name, version)))
