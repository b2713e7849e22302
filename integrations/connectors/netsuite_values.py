"""Value translation between flows and NetSuite: a time bill's `hours` is a duration.

NetSuite's duration fields are hours and minutes as text ("25:45"), used on time bill
records: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157305090645.html
Flows keep mapping a number of hours (7.5); the connector writes "7:30" and reads it back
as 7.5 (rounded to 2 decimals: whole minutes, so hours rounded to 2 decimals survive the trip).
"""

from __future__ import annotations

import re
from typing import Any

from integrations.connectors.errors import ConnectorError

DURATION_FIELDS = {"timeBill": ("hours",)}
_DURATION = re.compile(r"^\s*(\d+):([0-5]\d)\s*$")


def to_duration(value: Any, field: str) -> Any:
    if value is None or (isinstance(value, str) and _DURATION.match(value)):
        return value
    try:
        hours = float(value)
    except (TypeError, ValueError):
        raise ConnectorError(f"{field} must be a number of hours or H:MM, not {value!r}.", kind="permanent") from None
    if not 0 <= hours < 1000:
        raise ConnectorError(f"{field} must be between 0 and 1000 hours, not {hours}.", kind="permanent")
    minutes = round(hours * 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def from_duration(value: Any) -> Any:
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        return value
    return round(int(match.group(1)) + int(match.group(2)) / 60, 2)


def outgoing(object_name: str, record: dict[str, Any]) -> dict[str, Any]:
    fields = DURATION_FIELDS.get(object_name, ())
    return {k: to_duration(v, k) if k in fields else v for k, v in record.items()}


def incoming(object_name: str, record: dict[str, Any]) -> dict[str, Any]:
    fields = {f.lower() for f in DURATION_FIELDS.get(object_name, ())} | set(DURATION_FIELDS.get(object_name, ()))
    return {k: from_duration(v) if k in fields else v for k, v in record.items()}
