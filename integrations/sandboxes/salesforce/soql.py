"""The subset of SOQL the Salesforce sandbox answers:

    SELECT f1, f2 FROM SObject [WHERE cond [AND cond ...]] [ORDER BY f [ASC|DESC]] [LIMIT n]

where cond is `field op literal` (op: = != <> < <= > >= LIKE) or `field [NOT] IN (literals)`.
Literals: 'quoted strings', numbers, true/false/null, date (2025-01-01) and datetime
(2025-01-01T00:00:00Z) literals. Anything else is a MALFORMED_QUERY, as Salesforce says.
Pure: no ORM, no HTTP."""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation


class SoqlError(ValueError):
    """A query the sandbox rejects; `code` is the Salesforce errorCode."""

    def __init__(self, message: str, code: str = "MALFORMED_QUERY"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: object


@dataclass
class Query:
    fields: list[str]
    sobject: str
    conditions: list[Condition] = field(default_factory=list)
    order_by: str | None = None
    descending: bool = False
    limit: int | None = None


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op><=|>=|!=|<>|=|<|>)|(?P<punct>[(),])|(?P<word>[^\s(),=<>!']+))"
)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$")


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise SoqlError(f"unexpected token at position {pos}: '{text[pos : pos + 20]}'")
        tokens.append(match.group().strip())
        pos = match.end()
    return tokens


def parse_datetime(text: str) -> datetime:
    """Salesforce datetimes: 2025-03-28T21:40:05.000+0000 or ...Z."""
    text = text.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    return datetime.fromisoformat(text).astimezone(UTC)


def _literal(token: str) -> object:
    lowered = token.lower()
    if token.startswith("'"):
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if _DATETIME.match(token):
        return parse_datetime(token)
    if _DATE.match(token):
        return date.fromisoformat(token)
    try:
        return Decimal(token)
    except InvalidOperation:
        raise SoqlError(f"unexpected token: '{token}'")


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise SoqlError("unexpected end of query")
        self.pos += 1
        return token

    def keyword(self, word: str) -> bool:
        if (self.peek() or "").upper() == word:
            self.pos += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.keyword(word):
            raise SoqlError(f"expecting '{word}', found '{self.peek() or 'end of query'}'")

    def ident(self) -> str:
        token = self.take()
        if not _IDENT.match(token):
            raise SoqlError(f"unexpected token: '{token}'")
        return token

    def parse(self) -> Query:
        self.expect("SELECT")
        fields = [self.ident()]
        while self.peek() == ",":
            self.take()
            fields.append(self.ident())
        self.expect("FROM")
        query = Query(fields=fields, sobject=self.ident())
        if self.keyword("WHERE"):
            query.conditions.append(self.condition())
            while self.keyword("AND"):
                query.conditions.append(self.condition())
        if self.keyword("ORDER"):
            self.expect("BY")
            query.order_by = self.ident()
            query.descending = self.keyword("DESC")
            if not query.descending:
                self.keyword("ASC")
        if self.keyword("LIMIT"):
            token = self.take()
            if not token.isdigit():
                raise SoqlError(f"LIMIT must be a non-negative integer, found '{token}'")
            query.limit = int(token)
        if self.peek() is not None:
            raise SoqlError(f"unexpected token: '{self.peek()}'")
        return query

    def condition(self) -> Condition:
        name = self.ident()
        negate = self.keyword("NOT")
        if self.keyword("IN"):
            return Condition(name, "NOT IN" if negate else "IN", self.value_list())
        if negate:
            raise SoqlError("expecting 'IN' after 'NOT'")
        op = self.take()
        if op.upper() == "LIKE":
            op = "LIKE"
        elif op not in ("=", "!=", "<>", "<", "<=", ">", ">="):
            raise SoqlError(f"unexpected token: '{op}'")
        return Condition(name, "!=" if op == "<>" else op, _literal(self.take()))

    def value_list(self) -> list:
        self.expect("(")
        values = [_literal(self.take())]
        while self.peek() == ",":
            self.take()
            values.append(_literal(self.take()))
        self.expect(")")
        return values


def parse(text: str) -> Query:
    return _Parser(text).parse()


# --- evaluation against stored records (plain dicts in Salesforce field names) ---


def _coerce(stored: object, literal: object) -> object:
    """Bring a stored JSON value to the literal's type so comparisons mean what SOQL means."""
    if stored is None or literal is None:
        return stored
    if isinstance(literal, datetime) and isinstance(stored, str):
        return parse_datetime(stored)
    if isinstance(literal, date) and isinstance(stored, str):
        return date.fromisoformat(stored[:10])
    if isinstance(literal, Decimal) and isinstance(stored, int | float | str) and not isinstance(stored, bool):
        try:
            return Decimal(str(stored))
        except InvalidOperation:
            return stored
    return stored


def _like(value: object, pattern: str) -> bool:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return isinstance(value, str) and re.fullmatch(regex, value, flags=re.IGNORECASE | re.DOTALL) is not None


def _holds(record: dict, cond: Condition) -> bool:
    raw = record.get(cond.field)
    if cond.op in ("IN", "NOT IN"):
        inside = any(_coerce(raw, v) == v for v in cond.value)
        return inside if cond.op == "IN" else not inside
    if cond.op == "LIKE":
        return _like(raw, str(cond.value))
    value = _coerce(raw, cond.value)
    if cond.op == "=":
        return value == cond.value
    if cond.op == "!=":
        return value != cond.value
    if value is None or cond.value is None:
        return False  # null never orders
    try:
        return {"<": value < cond.value, "<=": value <= cond.value, ">": value > cond.value, ">=": value >= cond.value}[
            cond.op
        ]
    except TypeError:
        raise SoqlError(f"value of filter criterion for field '{cond.field}' must be of matching type", "INVALID_FIELD")


def canonicalize(query: Query, canonical) -> Query:
    """Field names as the SObject spells them (SOQL is case-insensitive), or INVALID_FIELD
    with Salesforce's wording. `canonical(name)` gives the spelling or None."""

    def fix(name: str) -> str:
        found = canonical(name)
        if found is None:
            raise SoqlError(
                f"\n{name}\n^\nERROR at Row:1:Column:1\nNo such column '{name}' on entity '{query.sobject}'. "
                "If you are attempting to use a custom field, be sure to append the '__c' after the custom field "
                "name. Please reference your WSDL or the describe call for the appropriate names.",
                "INVALID_FIELD",
            )
        return found

    return Query(
        fields=[fix(f) for f in query.fields],
        sobject=query.sobject,
        conditions=[Condition(fix(c.field), c.op, c.value) for c in query.conditions],
        order_by=fix(query.order_by) if query.order_by else None,
        descending=query.descending,
        limit=query.limit,
    )


def run(query: Query, records: list[dict]) -> list[dict]:
    """Filter, order and limit; returns the matching records (full dicts)."""
    rows = [r for r in records if all(_holds(r, c) for c in query.conditions)]
    if query.order_by:
        key = query.order_by
        present = [r for r in rows if r.get(key) is not None]
        missing = [r for r in rows if r.get(key) is None]
        present.sort(key=lambda r: r[key], reverse=query.descending)
        # Salesforce puts nulls first ascending, last descending.
        rows = present + missing if query.descending else missing + present
    if query.limit is not None:
        rows = rows[: query.limit]
    return rows
