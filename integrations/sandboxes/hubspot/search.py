"""HubSpot CRM search semantics for the sandbox: `filterGroups` (OR of groups, AND inside
a group), operators, `sorts`, and HubSpot's limits. Pure: records are property dicts."""

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

OPERATORS = {
    "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN",
    "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
}  # fmt: skip
MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
MAX_LIMIT = 200
MAX_RESULTS = 10_000


class SearchError(ValueError):
    """A search body HubSpot answers with 400 VALIDATION_ERROR."""


def _comparable(value: object) -> object:
    """Numbers compare as numbers, datetimes (ISO or epoch ms) as instants, the rest as text."""
    if value is None:
        return None
    text = str(value)
    try:
        return Decimal(text)
    except InvalidOperation:
        pass
    try:
        return Decimal(int(datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp() * 1000))
    except ValueError:
        return text.lower()


def _match(props: dict, flt: dict) -> bool:
    name, op = flt.get("propertyName"), flt.get("operator", "EQ")
    raw = props.get(name)
    present = raw not in (None, "")
    if op == "HAS_PROPERTY":
        return present
    if op == "NOT_HAS_PROPERTY":
        return not present
    if op in ("IN", "NOT_IN"):
        wanted = {_comparable(v) for v in flt.get("values") or []}
        return (_comparable(raw) in wanted) == (op == "IN")
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(flt.get("value", "")).lower().strip("*")
        return (token in str(raw or "").lower()) == (op == "CONTAINS_TOKEN")
    left, right = _comparable(raw), _comparable(flt.get("value"))
    if op == "EQ":
        return left == right
    if op == "NEQ":
        return left != right
    if left is None or type(left) is not type(right):
        return False
    if op == "BETWEEN":
        high = _comparable(flt.get("highValue"))
        return type(high) is type(left) and right <= left <= high
    return {"LT": left < right, "LTE": left <= right, "GT": left > right, "GTE": left >= right}[op]


def _sort_key(value: object) -> tuple:
    value = _comparable(value)
    if value is None:
        return (2, 0)
    return (0, value) if isinstance(value, Decimal) else (1, value)


def validate(body: object) -> dict:
    """The search body, or SearchError with HubSpot's wording."""
    if not isinstance(body, dict):
        raise SearchError("Invalid input JSON on line 1, column 1: Cannot build PublicObjectSearchRequest")
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise SearchError("filterGroups must be a list of objects with filters")
    if not isinstance(body.get("sorts") or [], list) or not isinstance(body.get("properties") or [], list):
        raise SearchError("sorts and properties must be lists")
    if len(groups) > MAX_GROUPS:
        raise SearchError(f"There was a problem with the request: maximum of {MAX_GROUPS} filterGroups exceeded")
    total = 0
    for group in groups:
        filters = group.get("filters") or []
        if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
            raise SearchError("filters must be a list of objects")
        total += len(filters)
        if len(filters) > MAX_FILTERS_PER_GROUP or total > MAX_FILTERS:
            raise SearchError("There was a problem with the request: too many filters")
        for flt in filters:
            if flt.get("operator", "EQ") not in OPERATORS:
                raise SearchError(f"Invalid operator: {flt.get('operator')}")
            if not flt.get("propertyName"):
                raise SearchError("Filter is missing propertyName")
    limit = body.get("limit", 10)
    if not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}")
    return body


def run(body: dict, records: list[dict], props_of=lambda r: r["properties"]) -> list[dict]:
    """Matching records, sorted as asked (default: by id, HubSpot's stable order)."""
    groups = body.get("filterGroups") or []

    def keep(record):
        props = props_of(record)
        return not groups or any(all(_match(props, f) for f in g.get("filters") or []) for g in groups)

    rows = [r for r in records if keep(r)]
    for sort in reversed(body.get("sorts") or []):
        name = sort.get("propertyName") if isinstance(sort, dict) else str(sort)
        descending = isinstance(sort, dict) and sort.get("direction") == "DESCENDING"
        rows.sort(key=lambda r, n=name: _sort_key(props_of(r).get(n)), reverse=descending)
    return rows
