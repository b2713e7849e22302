"""The slice of SuiteQL the NetSuite sandbox answers.

`SELECT a, b | * FROM <record> [WHERE cond {AND|OR cond}] [ORDER BY col [ASC|DESC]]`, where a
condition is `column <op> literal` with =, <>, !=, <, <=, >, >=, and a literal is a quoted
string, a number, or `TO_DATE('2025-04-01','YYYY-MM-DD')` or `TO_TIMESTAMP(...)`. Column names come back lower-case,
as NetSuite returns them. Pure functions over dicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]


class SuiteQLError(ValueError):
    """Carries NetSuite's wording for the 400 body."""


_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<cols>.+?)\s+FROM\s+(?P<table>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?P<dir>ASC|DESC))?)?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COND = re.compile(
    r"\s*(?P<col>\w+)\s*(?P<op><>|!=|<=|>=|=|<|>)\s*"
    r"(?P<val>TO_(?:DATE|TIMESTAMP)\(\s*'[^']*'\s*,\s*'[^']*'\s*\)|'(?:[^']|'')*'|-?\d+(?:\.\d+)?)\s*",
    re.IGNORECASE,
)
_JOIN = re.compile(r"\s*(AND|OR)\s+", re.IGNORECASE)


@dataclass
class Query:
    table: str
    columns: list[str] | None  # None = *
    conditions: list[tuple[str, str, Any]] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)  # "and"/"or" between conditions, left to right
    order: tuple[str, bool] | None = None  # (column, descending)

    def matches(self, row: Row) -> bool:
        if not self.conditions:
            return True
        result = _test(row, *self.conditions[0])
        for join, cond in zip(self.joins, self.conditions[1:], strict=True):
            result = (result and _test(row, *cond)) if join == "and" else (result or _test(row, *cond))
        return result

    def project(self, row: Row) -> Row:
        if self.columns is None:
            return dict(row)
        return {col: row.get(col) for col in self.columns}

    def referenced(self) -> set[str]:
        names = {c[0] for c in self.conditions} | set(self.columns or [])
        return names | ({self.order[0]} if self.order else set())


def _value(raw: str) -> Any:
    if raw.upper().startswith("TO_"):
        # Stored stamps are ISO-8601 UTC; a date or 'YYYY-MM-DD HH24:MI:SS' compares in that form.
        text = re.search(r"'([^']*)'", raw).group(1)  # type: ignore[union-attr]
        return text.replace(" ", "T") + "Z" if " " in text else text
    if raw.startswith("'"):
        return raw[1:-1].replace("''", "'")
    return float(raw) if "." in raw else int(raw)


def _test(row: Row, col: str, op: str, value: Any) -> bool:
    left = row.get(col)
    if isinstance(value, str) and left is not None:
        left = str(left)  # string comparison is case-sensitive, as in NetSuite's Oracle SQL
    if op == "=":
        return left == value
    if op in ("<>", "!="):
        return left != value
    if left is None:
        return False
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    try:
        return compare[op](left, value)
    except TypeError:
        return False


def _conditions(where: str) -> tuple[list[tuple[str, str, Any]], list[str]]:
    conds, joins, pos = [], [], 0
    while pos < len(where):
        m = _COND.match(where, pos)
        if not m:
            raise SuiteQLError(
                f"Invalid search query. Search error occurred: Invalid or unsupported search near '{where[pos:]}'."
            )
        conds.append((m.group("col").lower(), m.group("op"), _value(m.group("val"))))
        pos = m.end()
        if pos < len(where):
            j = _JOIN.match(where, pos)
            if not j:
                raise SuiteQLError(
                    f"Invalid search query. Search error occurred: Invalid or unsupported search near '{where[pos:]}'."
                )
            joins.append(j.group(1).lower())
            pos = j.end()
    return conds, joins


def parse(text: str) -> Query:
    m = _QUERY.match(text or "")
    if not m:
        raise SuiteQLError(
            "Invalid search query. Detailed unprocessed description follows. "
            "Search error occurred: Invalid or unsupported search."
        )
    cols = m.group("cols").strip()
    columns = None if cols == "*" else [c.strip().lower() for c in cols.split(",") if c.strip()]
    conds, joins = _conditions(m.group("where") or "")
    order = (m.group("order").lower(), (m.group("dir") or "").upper() == "DESC") if m.group("order") else None
    return Query(m.group("table").lower(), columns, conds, joins, order)
