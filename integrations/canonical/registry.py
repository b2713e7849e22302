"""Canonical object schemas: `schemas/<object>/v<N>.json`, JSON Schema draft 2020-12.

`validator(name, version)` returns a `CanonicalValidator` compiled once per process: a
fastjsonschema function answers the common "is this valid" question in microseconds, and
only an invalid record pays for jsonschema's full list of errors with their paths."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
_REF = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)@(?P<version>[1-9][0-9]*)$")


class UnknownCanonicalObject(LookupError):
    pass


def parse_ref(ref: str) -> tuple[str, int]:
    """'project@1' -> ('project', 1); raises UnknownCanonicalObject for a malformed reference."""
    match = _REF.match(ref or "")
    if not match:
        raise UnknownCanonicalObject(f"{ref!r} is not a canonical reference like 'project@1'")
    return match["name"], int(match["version"])


def list_objects() -> list[str]:
    return sorted(p.name for p in SCHEMA_DIR.iterdir() if p.is_dir() and any(p.glob("v*.json")))


def list_versions(name: str) -> list[int]:
    return sorted(int(p.stem[1:]) for p in (SCHEMA_DIR / name).glob("v*.json")) if name in list_objects() else []


@cache
def _load(name: str, version: int) -> str:
    path = SCHEMA_DIR / name / f"v{version}.json"
    if name not in list_objects() or not path.is_file():
        raise UnknownCanonicalObject(f"there is no canonical object {name}@{version}")
    return path.read_text()


def get_schema(name: str, version: int) -> dict[str, Any]:
    """A fresh copy of the schema (callers may not mutate the cached one)."""
    schema: dict[str, Any] = json.loads(_load(name, version))
    return schema


def exists(ref: str) -> bool:
    try:
        _load(*parse_ref(ref))
    except UnknownCanonicalObject:
        return False
    return True


def _is_date(value: Any) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_datetime(value: Any) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value or " " in value


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FORMATS: dict[str, Any] = {"date": _is_date, "date-time": _is_datetime, "email": lambda v: bool(_EMAIL.match(v))}
_FORMAT_CHECKER = FormatChecker(formats=())
for _name, _check in FORMATS.items():
    _FORMAT_CHECKER.checks(_name)(_check)


@dataclass(frozen=True)
class Violation:
    field: str  # dotted path into the record, "" for the record itself
    message: str


class CanonicalValidator:
    def __init__(self, name: str, version: int):
        schema = get_schema(name, version)
        self.ref = f"{name}@{version}"
        self._full = Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)
        # fastjsonschema implements draft-07; our schemas use only keywords with identical
        # meaning in 2020-12 and both validators share the format checks below
        # (tests/engine/test_canonical.py checks that they agree).
        fast_schema = {**schema, "$schema": "http://json-schema.org/draft-07/schema#"}
        self._fast = fastjsonschema.compile(fast_schema, formats=FORMATS)

    def is_valid(self, record: Any) -> bool:
        try:
            self._fast(record)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def violations(self, record: Any) -> list[Violation]:
        if self.is_valid(record):
            return []
        found = [
            Violation(".".join(str(p) for p in err.absolute_path), err.message)
            for err in sorted(self._full.iter_errors(record), key=lambda e: list(map(str, e.absolute_path)))
        ]
        return found or [Violation("", "does not match the schema")]


@cache
def validator(name: str, version: int) -> CanonicalValidator:
    return CanonicalValidator(name, version)


def validator_for(ref: str) -> CanonicalValidator:
    return validator(*parse_ref(ref))
