"""The slice of SuiteQL the NetSuite sandbox answers.

`SELECT <items> FROM <record> [WHERE cond {AND|OR cond}] [ORDER BY col [ASC|DESC]]`, where an
item is `*`, `<record>.*`, a column, or `TO_CHAR(column, 'format') [AS] alias`; a condition is
`column <op> literal` with =, <>, !=, <, <=, >, >=, and a literal is a quoted string, a
number, or `TO_DATE('2025-04-01','YYYY-MM-DD')` or `TO_TIMESTAMP(...)`. Columns may be
qualified by the record name. Column names come back lower-case, as NetSuite returns them.
Pure functions over dicts: the caller renders values (dates by the account's preference).
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
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?:\w+\.)?(?P<order>\w+)(?:\s+(?P<dir>ASC|DESC))?)?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COND = re.compile(
    r"\s*(?:\w+\.)?(?P<col>\w+)\s*(?P<op><>|!=|<=|>=|=|<|>)\s*"
    r"(?P<val>TO_(?:DATE|TIMESTAMP)\(\s*'[^']*'\s*,\s*'[^']*'\s*\)|'(?:[^']|'')*'|-?\d+(?:\.\d+)?)\s*",
    re.IGNORECASE,
)
_JOIN = re.compile(r"\s*(AND|OR)\s+", re.IGNORECASE)


_STAR = re.compile(r"^(?:\w+\.)?\*$")
_TO_CHAR = re.compile(
    r"^TO_CHAR\(\s*(?:\w+\.)?(?P<src>\w+)\s*,\s*'(?P<fmt>[^']*)'\s*\)(?:\s+(?:AS\s+)?(?P<alias>\w+))?$",
    re.IGNORECASE,
)
_PLAIN = re.compile(r"^(?:\w+\.)?(?P<src>\w+)(?:\s+(?:AS\s+)?(?P<alias>\w+))?$", re.IGNORECASE)
Render = Callable[[str, Any], Any]  # (column, stored value) -> value as SuiteQL answers it


class Column(str):
    """An answer column: its name (the string itself), the column it reads, a TO_CHAR format."""

    source: str
    to_char: str | None

    def __new__(cls, name: str, source: str | None = None, to_char: str | None = None) -> Column:
        column = super().__new__(cls, name)
        column.source = source or name
        column.to_char = to_char
        return column


def _same(_column: str, value: Any) -> Any:
    return value


def _as_is(value: Any, _fmt: str) -> Any:
    return value


@dataclass
class Query:
    table: str
    columns: list[Column] | None  # None = only *
    conditions: list[tuple[str, str, Any]] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)  # "and"/"or" between conditions, left to right
    order: tuple[str, bool] | None = None  # (column, descending)
    star: bool = False  # `*` among the items (with columns after it)

    def matches(self, row: Row) -> bool:
        if not self.conditions:
            return True
        result = _test(row, *self.conditions[0])
        for join, cond in zip(self.joins, self.conditions[1:], strict=True):
            result = (result and _test(row, *cond)) if join == "and" else (result or _test(row, *cond))
        return result

    def project(self, row: Row, render: Render = _same, to_char: Callable[[Any, str], Any] = _as_is) -> Row:
        out: Row = {k: render(k, v) for k, v in row.items()} if self.star or self.columns is None else {}
        for col in self.columns or []:
            value = row.get(col.source)
            out[str(col)] = to_char(value, col.to_char) if col.to_char is not None else render(col.source, value)
        return out

    def referenced(self) -> set[str]:
        names = {c[0] for c in self.conditions} | {c.source for c in self.columns or []}
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
    star, columns = _items(m.group("cols"))
    conds, joins = _conditions(m.group("where") or "")
    order = (m.group("order").lower(), (m.group("dir") or "").upper() == "DESC") if m.group("order") else None
    return Query(m.group("table").lower(), columns if columns else None, conds, joins, order, star)


def _split(text: str) -> list[str]:
    """Split at commas outside parentheses and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _items(text: str) -> tuple[bool, list[Column]]:
    star, columns = False, []
    for item in _split(text):
        if _STAR.match(item):
            star = True
        elif m := _TO_CHAR.match(item):
            src = m.group("src").lower()
            columns.append(Column((m.group("alias") or src).lower(), src, m.group("fmt")))
        elif m := _PLAIN.match(item):
            src = m.group("src").lower()
            columns.append(Column((m.group("alias") or src).lower(), src))
        else:
            raise SuiteQLError(
                f"Invalid search query. Search error occurred: Invalid or unsupported search near '{item}'."
            )
    return star, columns
