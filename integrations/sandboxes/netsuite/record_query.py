"""The `q` parameter of a NetSuite record collection (`GET /record/v1/customer?q=...`):
`<field> <OPERATOR> <value>` conditions joined left to right by AND / OR, e.g.
`lastModifiedDate ON_OR_AFTER "4/1/2025" AND companyName START_WITH "North"`.
Dates are M/D/YYYY, as NetSuite's default date format writes them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

_COND = re.compile(r'\s*(\w+)\s+([A-Z_]+)\s*("(?:[^"\\]|\\.)*"|[^\s"]+)?\s*')
_JOIN = re.compile(r"\s*(AND|OR)\s+")
_TEXT: dict[str, Callable[[str, str], bool]] = {
    "IS": lambda a, b: a.lower() == b.lower(),
    "IS_NOT": lambda a, b: a.lower() != b.lower(),
    "START_WITH": lambda a, b: a.lower().startswith(b.lower()),
    "END_WITH": lambda a, b: a.lower().endswith(b.lower()),
    "CONTAIN": lambda a, b: b.lower() in a.lower(),
}
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "EQUAL": lambda a, b: a == b,
    "ON": lambda a, b: a == b,
    "GREATER": lambda a, b: a > b,
    "AFTER": lambda a, b: a > b,
    "GREATER_OR_EQUAL": lambda a, b: a >= b,
    "ON_OR_AFTER": lambda a, b: a >= b,
    "LESS": lambda a, b: a < b,
    "BEFORE": lambda a, b: a < b,
    "LESS_OR_EQUAL": lambda a, b: a <= b,
    "ON_OR_BEFORE": lambda a, b: a <= b,
}
_DATE_OPS = {"ON", "AFTER", "ON_OR_AFTER", "BEFORE", "ON_OR_BEFORE"}


class RecordQueryError(ValueError):
    pass


def _date(value: str) -> str:
    try:
        month, day, year = (int(p) for p in value.split("/"))
        return date(year, month, day).isoformat()
    except ValueError:
        raise RecordQueryError(f"Invalid date value '{value}': use M/D/YYYY.") from None


def _condition(field: str, op: str, raw: str | None, known: dict[str, str]) -> Callable[[dict], bool]:
    name = known.get(field.lower())
    if name is None:
        raise RecordQueryError(f"Invalid query: unknown field '{field}'.")
    if op in ("EMPTY", "EMPTY_NOT"):
        return lambda row: (row.get(name) in (None, "")) == (op == "EMPTY")
    if raw is None:
        raise RecordQueryError(f"Invalid query: operator {op} needs a value.")
    value = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
    if op in _TEXT:
        return lambda row: _TEXT[op](str(row.get(name) or ""), value)
    if op not in _ORDER:
        raise RecordQueryError(f"Invalid query: unsupported operator '{op}'.")
    target: Any = (
        _date(value) if op in _DATE_OPS else (float(value) if re.fullmatch(r"-?\d+(\.\d+)?", value) else value)
    )

    def test(row: dict) -> bool:
        left = row.get(name)
        if left is None:
            return False
        if op in _DATE_OPS:
            left = str(left)[:10]  # compare the date part of a date or timestamp
        try:
            return _ORDER[op](left, target)
        except TypeError:
            return False

    return test


def parse(q: str | None, fields: list[str]) -> Callable[[dict], bool]:
    """A predicate over a record's data; RecordQueryError with NetSuite-style wording."""
    if not q or not q.strip():
        return lambda row: True
    known = {f.lower(): f for f in fields}
    tests, joins, pos = [], [], 0
    while pos < len(q):
        m = _COND.match(q, pos)
        if not m:
            raise RecordQueryError(f"Invalid query near '{q[pos:]}'.")
        tests.append(_condition(m.group(1), m.group(2), m.group(3), known))
        pos = m.end()
        if pos < len(q):
            j = _JOIN.match(q, pos)
            if not j:
                raise RecordQueryError(f"Invalid query near '{q[pos:]}'.")
            joins.append(j.group(1))
            pos = j.end()

    def predicate(row: dict) -> bool:
        result = tests[0](row)
        for join, test in zip(joins, tests[1:], strict=True):
            result = (result and test(row)) if join == "AND" else (result or test(row))
        return result

    return predicate
