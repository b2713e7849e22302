"""The slice of OData v4 query syntax the Dataverse sandbox understands.

`$filter`: comparisons (eq ne gt ge lt le) joined by `and`/`or`, parentheses, string,
number, boolean, null, GUID and date-time literals. `$select`, `$top`, `$orderby`.
Key segments: `accounts(<guid>)` and alternate keys `accounts(accountnumber='C-10042')`.
Pure functions over dicts so the views stay thin.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]
Predicate = Callable[[Row], bool]


class ODataSyntaxError(ValueError):
    """Raised with Dataverse's wording so the view can return it as a 400 body."""


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<lp>\()|(?P<rp>\))"
    r"|(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"|(?P<dt>\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?)"
    r"|(?P<num>-?\d+(?:\.\d+)?(?![\w:-]))|(?P<word>[A-Za-z_@][\w.@/:-]*))"
)
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ODataSyntaxError(f"Syntax error at position {pos} in '{text}'.")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _literal(kind: str, raw: str) -> Any:
    if kind == "str":
        return raw[1:-1].replace("''", "'")
    if kind == "num":
        return float(raw) if "." in raw else int(raw)
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    if kind == "guid":
        return raw.lower()
    if kind == "dt" and "T" not in raw:
        return raw
    if kind == "dt":
        # Stored values are ISO-8601 UTC with a Z; normalise so string order is time order.
        return raw.replace("+00:00", "Z").split(".")[0].rstrip("Z") + "Z"
    return raw


def _compare(left: Any, op: str, right: Any) -> bool:
    if op in ("eq", "ne"):
        equal = left.lower() == right.lower() if isinstance(left, str) and isinstance(right, str) else left == right
        return equal if op == "eq" else not equal
    if left is None or right is None:
        return False
    try:
        return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]
    except TypeError:
        return str(left) > str(right) if op == "gt" else False


@dataclass
class _Parser:
    tokens: list[tuple[str, str]]
    pos: int = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ODataSyntaxError("Unexpected end of $filter expression.")
        self.pos += 1
        return tok

    def expression(self) -> Predicate:
        left = self.conjunction()
        while (tok := self.peek()) and tok == ("word", "or"):
            self.take()
            right = self.conjunction()
            left = (lambda a, b: lambda row: a(row) or b(row))(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.term()
        while (tok := self.peek()) and tok == ("word", "and"):
            self.take()
            right = self.term()
            left = (lambda a, b: lambda row: a(row) and b(row))(left, right)
        return left

    def term(self) -> Predicate:
        kind, raw = self.take()
        if kind == "lp":
            inner = self.expression()
            if self.take()[0] != "rp":
                raise ODataSyntaxError("Missing closing parenthesis in $filter.")
            return inner
        if kind != "word":
            raise ODataSyntaxError(f"Expected a property name, found '{raw}'.")
        _, op = self.take()
        if op not in _OPS:
            raise ODataSyntaxError(f"Unsupported operator '{op}' in $filter.")
        value = _literal(*self.take())
        return lambda row: _compare(row.get(raw), op, value)


def parse_filter(text: str | None) -> Predicate:
    if not text:
        return lambda row: True
    parser = _Parser(_tokens(text))
    predicate = parser.expression()
    if parser.peek() is not None:
        raise ODataSyntaxError(f"Unexpected '{parser.peek()[1]}' in $filter.")  # type: ignore[index]
    return predicate


def filter_properties(text: str | None) -> set[str]:
    """Property names a $filter mentions (to report unknown ones the way Dataverse does)."""
    names = set()
    for kind, raw in _tokens(text or ""):
        if kind == "word" and raw.lower() not in _OPS | {"and", "or", "true", "false", "null"} and not _GUID.match(raw):
            names.add(raw)
    return names


def parse_select(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


def parse_orderby(text: str | None) -> list[tuple[str, bool]]:
    """`name asc,modifiedon desc` → [(name, False), (modifiedon, True)] (True = descending)."""
    out = []
    for part in (text or "").split(","):
        bits = part.split()
        if bits:
            out.append((bits[0], len(bits) > 1 and bits[1].lower() == "desc"))
    return out


def sort_rows(rows: list[Row], orderby: list[tuple[str, bool]]) -> list[Row]:
    for name, desc in reversed(orderby):
        rows = sorted(rows, key=lambda r: (r.get(name) is not None, r.get(name) or ""), reverse=desc)
    return rows


_KEY = re.compile(r"^(?P<set>\w+)(?:\((?P<key>.*)\))?$")


def parse_key_segment(segment: str) -> tuple[str, dict[str, str] | str | None]:
    """`accounts` → ('accounts', None); `accounts(<guid>)` → ('accounts', '<guid>');
    `accounts(accountnumber='C-1')` → ('accounts', {'accountnumber': 'C-1'})."""
    m = _KEY.match(segment)
    if not m:
        raise ODataSyntaxError(f"Resource not found for the segment '{segment}'.")
    key = m.group("key")
    if key is None:
        return m.group("set"), None
    if _GUID.match(key):
        return m.group("set"), key.lower()
    pairs: dict[str, str] = {}
    for item in re.finditer(r"(\w+)\s*=\s*'((?:[^']|'')*)'", key):
        pairs[item.group(1)] = item.group(2).replace("''", "'")
    if not pairs:
        raise ODataSyntaxError(f"Bad Request - Error in query syntax: key '{key}' is not valid.")
    return m.group("set"), pairs


def conjunction(text: str | None) -> list[tuple[str, str, Any]] | None:
    """`a gt 1 and b eq 'x'` → [(a, gt, 1), (b, eq, 'x')], so the view can let the database
    filter; None when the filter needs the general evaluator (or, parentheses, nulls)."""
    if not text:
        return []
    tokens = _tokens(text)
    out = []
    for i in range(0, len(tokens), 4):
        group = tokens[i : i + 4]
        if len(group) < 3 or group[0][0] != "word" or group[1][0] != "word" or group[1][1] not in _OPS:
            return None
        if len(group) == 4 and group[3] != ("word", "and"):
            return None
        value = _literal(*group[2])
        if value is None or isinstance(value, bool) or group[2][0] in ("lp", "rp", "word"):
            return None
        out.append((group[0][1], group[1][1], value))
    if len(tokens) % 4 != 3:
        return None
    return out
