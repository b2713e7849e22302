"""Worker time blocks on Workday's Time Tracking REST service (v5), and how Switchboard finds
one again without an idempotency key.

Resources (docs/VENDORS_HR_ERP.md, Workday): create `POST <svc>/workers/{ID}/workerTimeBlock`,
change `PATCH <svc>/workers/{ID}/workerTimeBlock/{subresourceID}`, list `GET
<svc>/workerTimeBlocks?worker=&fromDate=&toDate=&project=…` (limit/offset), with <svc> =
`ccx/api/timeTracking/v5/<tenant>` and {ID} the worker's Workday ID. Body: `calendarDate` +
`reportedQuantity` (hourly entry), `timeEntryCode {id}`, `project {id}`, `projectPlanTask {id}`,
`comment`, or `inTime`/`outTime` with their time zones.

Workday keeps no external reference on a block. Our `blockKey` is therefore the block's own
identity, `<worker ID>|<calendarDate>|<timeEntryCode ID>|<project ID or empty>`: a look-up
lists that worker's blocks on that date and keeps only rows whose worker, date, code and
project all equal the key's (never the first row on trust). The key is never sent to Workday.
One block per key: two source entries with the same worker, day, code and project would be
one block (a flow sums them first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from integrations.connectors.errors import ConnectorError

KEY_FIELD = "blockKey"
KEY_PARTS = ("worker", "calendarDate", "timeEntryCode", "project")
PAGE = 100


def segment(value: str) -> str:
    """A Workday ID as one path segment (WIDs, `123$456` and `Type_ID=value` ids)."""
    return quote(value, safe="=$")


def ref_id(value: Any) -> str:
    """The id of a reference given as `{"id": …}` or as the bare id."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value or "").strip()


def _date(value: Any) -> str:
    # Workday may answer a date as `YYYY-MM-DD` or as a timestamp: the day is the first ten.
    return str(value or "")[:10]


@dataclass(frozen=True)
class BlockKey:
    worker: str
    calendar_date: str
    time_entry_code: str
    project: str = ""

    @classmethod
    def parse(cls, key: str) -> BlockKey:
        parts = [p.strip() for p in str(key).split("|")]
        if len(parts) == 3:
            parts.append("")
        if len(parts) != 4 or not all(parts[:3]):
            raise ConnectorError(
                f"A Workday time block key is 'worker ID|calendarDate|timeEntryCode ID|project ID' "
                f"(project optional), not {key!r}.",
                kind="permanent",
                vendor_code=KEY_FIELD,
            )
        return cls(*parts)

    @classmethod
    def of(cls, record: dict[str, Any]) -> BlockKey:
        return cls(
            ref_id(record.get("worker")),
            _date(record.get("calendarDate") or record.get("inTime")),
            ref_id(record.get("timeEntryCode")),
            ref_id(record.get("project")),
        )

    def __str__(self) -> str:
        return "|".join((self.worker, self.calendar_date, self.time_entry_code, self.project))

    def matches(self, row: Any) -> bool:
        """Does a listed row really carry this worker, date, code and project?"""
        return isinstance(row, dict) and BlockKey.of(row) == self

    def list_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"worker": self.worker, "fromDate": self.calendar_date, "toDate": self.calendar_date}
        if self.project:
            params["project"] = self.project
        return params


def keyed(record: dict[str, Any], key: str) -> dict[str, Any]:
    """The record with its key: fields it leaves out come from the key, fields it gives
    must agree with it (a key naming another worker or day must not move someone's time)."""
    wanted = BlockKey.parse(key)
    given = BlockKey.of(record)
    filled = dict(record)
    for part, have, want in zip(KEY_PARTS, _parts(given), _parts(wanted), strict=True):
        if not have and want:
            filled[part] = want if part == "calendarDate" else {"id": want}
        elif have != want:
            raise ConnectorError(
                f"The time block's {part} ({have or 'none'}) is not the one in its {KEY_FIELD} ({want or 'none'}).",
                kind="permanent",
                vendor_code=KEY_FIELD,
            )
    return {**filled, KEY_FIELD: str(wanted)}


def _parts(key: BlockKey) -> tuple[str, str, str, str]:
    return key.worker, key.calendar_date, key.time_entry_code, key.project


def worker_of(record: dict[str, Any]) -> str:
    worker = ref_id(record.get("worker"))
    if not worker:
        raise ConnectorError(
            "A Workday time block needs its worker (worker.id, the worker's Workday ID): "
            "Workday takes time blocks under /workers/{ID}/workerTimeBlock.",
            kind="permanent",
            vendor_code="worker",
        )
    return worker


def body(record: dict[str, Any]) -> dict[str, Any]:
    """What goes to Workday: the record without our key and without the worker (it is
    in the path); references as `{"id": …}`."""
    out = {k: v for k, v in record.items() if k not in (KEY_FIELD, "worker")}
    for name in ("timeEntryCode", "project", "projectPlanTask", "inTimeZone", "outTimeZone"):
        if isinstance(out.get(name), str):
            out[name] = {"id": out[name]}
    return out


def one_match(key: BlockKey, rows: list[Any]) -> str | None:
    """The id of the one listed block that carries the key; None if none does."""
    matches = [r for r in rows if key.matches(r)]
    if len(matches) > 1:
        raise ConnectorError(
            f"Workday holds {len(matches)} time blocks for worker {key.worker} on {key.calendar_date} with time "
            f"entry code {key.time_entry_code}" + (f" and project {key.project}" if key.project else "") + ". "
            "Workday offers no idempotency key for time blocks, so Switchboard cannot tell which is its own: "
            "remove the extra blocks in Workday, then retry.",
            kind="permanent",
        )
    return str(matches[0]["id"]) if matches else None
