"""`$expand` of single-valued navigation properties, with a nested `$select`:
`$expand=parentaccountid($select=name,accountnumber)`. At most 15 options per query.
https://learn.microsoft.com/en-us/power-apps/developer/data-platform/webapi/query/join-tables
Not simulated: collection-valued navigation properties, nested `$expand`, `$filter` or
`$orderby` inside an expansion.
"""

from __future__ import annotations

import re
from typing import Any

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.dynamics import VENDOR
from integrations.sandboxes.dynamics.entities import SETS, DataverseError, EntitySet, check_known, value_column

MAX_EXPANDS = 15
_ITEM = re.compile(r"^(?P<nav>\w+)(?:\(\s*\$select=(?P<select>[\w,\s]+)\s*\))?$")


def _split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse(es: EntitySet, text: str | None) -> list[tuple[str, list[str] | None]]:
    if not text:
        return []
    items = _split(text)
    if len(items) > MAX_EXPANDS:
        raise DataverseError(400, "0x80060888", f"A query can have at most {MAX_EXPANDS} $expand options.")
    out = []
    for item in items:
        m = _ITEM.match(item)
        if not m:
            raise DataverseError(400, "0x80060888", f"The query option $expand '{item}' is not supported here.")
        nav = m.group("nav")
        if nav not in es.lookups:
            raise DataverseError(
                400, "0x80060888", f"Could not find a property named '{nav}' on type '{es.type_name}'."
            )
        target = SETS.get(es.lookups[nav])
        select = [c.strip() for c in m.group("select").split(",")] if m.group("select") else None
        if target is not None and select:
            check_known(target, set(select))
        out.append((nav, select))
    return out


def apply(es: EntitySet, shaped: dict[str, Any], data: dict[str, Any], expanding) -> dict[str, Any]:
    for nav, select in expanding:
        target = SETS.get(es.lookups[nav])
        ref = data.get(value_column(nav))
        row = store.get(VENDOR, target.name, ref) if target is not None and ref else None
        if row is None:
            shaped[nav] = None
            continue
        related = row.data if select is None else {k: row.data.get(k) for k in select}
        shaped[nav] = {target.key: row.record_id, **related}
    return shaped
