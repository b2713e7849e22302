"""The `worker_sync` object of a BambooHR connection: each employee changed since the
watermark, whole — the fields an HR sync needs (employee number, status, termination date,
`lastChanged`) read with Get Employee, and the compensation row in force read from the
employee's compensation table. List Employees carries neither the employee number nor the
termination date, hence one Get Employee per changed employee.

The ids come from `GET /v1/employees/changed?since=` (a change to any field or table row moves
the employee's lastChanged), or on the first poll from List Employees; the cursor carries the
ids and an offset so the pages of one poll agree on one snapshot.
Sources: https://documentation.bamboohr.com/reference/get-changed-employee-ids,
https://documentation.bamboohr.com/reference/get-employee-table-row,
https://documentation.bamboohr.com/reference/get-changed-employee-table-data (row shape)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx

from integrations.connectors.base import Page
from integrations.connectors.payloads import json_list, json_object

if TYPE_CHECKING:
    from integrations.connectors.bamboohr import BambooHRConnector

WORKER_FIELDS = (
    "employeeNumber",
    "firstName",
    "lastName",
    "preferredName",
    "workEmail",
    "jobTitle",
    "department",
    "division",
    "location",
    "hireDate",
    "terminationDate",
    "status",
    "lastChanged",
)
_RATE = re.compile(r"^\s*([\d.]+)\s+([A-Za-z]{3})\s*$")


def server_time(response: httpx.Response) -> str | None:
    """The response's `Date` as ISO-8601 UTC, in the form `changed` returns (`+00:00`)."""
    try:
        when = parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def compensation_in_force(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The open row (no endDate), else the latest; its rate split into amount and currency."""
    if not rows:
        return None
    open_rows = [r for r in rows if not r.get("endDate")] or rows
    row = max(open_rows, key=lambda r: str(r.get("startDate") or ""))
    match = _RATE.match(str(row.get("rate") or ""))
    return {
        "startDate": row.get("startDate"),
        "rate": row.get("rate"),
        "amount": match.group(1) if match else None,
        "currency": match.group(2).upper() if match else None,
        "type": row.get("type"),
        "paidPer": row.get("paidPer"),
    }


def worker(conn: BambooHRConnector, employee_id: str) -> dict[str, Any]:
    record = json_object(
        conn.request("GET", f"api/v1/employees/{employee_id}", params={"fields": ",".join(WORKER_FIELDS)})
    )
    rows = json_list(conn.request("GET", f"api/v1/employees/{employee_id}/tables/compensation"))
    return {**record, "id": str(record.get("id", employee_id)), "compensation": compensation_in_force(rows)}


def worker_page(conn: BambooHRConnector, since: str | None, cursor: str | None, limit: int) -> Page:
    state = json.loads(cursor) if cursor else None
    if state is None:
        state = changed_ids(conn, since) if since else all_ids(conn)
    batch = state["ids"][state["offset"] : state["offset"] + limit]
    nxt = state["offset"] + limit
    next_cursor = json.dumps({**state, "offset": nxt}) if nxt < len(state["ids"]) else None
    return Page([worker(conn, i) for i in batch], next_cursor, state.get("latest") or since)


def changed_ids(conn: BambooHRConnector, since: str) -> dict[str, Any]:
    """Asked one second before the watermark: stamps are whole seconds, and a change made in
    the watermark's own second after the last poll read it must not be missed. What is read
    again comes back unchanged and the poll stores it as the event it already has."""
    changed = json_object(conn.request("GET", "api/v1/employees/changed", params={"since": second_before(since)}))
    found = changed.get("employees") or {}
    ids = sorted((i for i, e in found.items() if (e or {}).get("action") != "Deleted"), key=int)
    return {"ids": ids, "offset": 0, "latest": changed.get("latest")}


def second_before(stamp: str) -> str:
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp  # BambooHR names the bad parameter in its 400
    return (when - timedelta(seconds=1)).isoformat()


def all_ids(conn: BambooHRConnector) -> dict[str, Any]:
    """Every employee (the first poll). The watermark is the server's clock when the listing
    began: the next poll asks `changed` since then."""
    ids: list[str] = []
    params: dict[str, str] = {"page[limit]": "100"}
    started = None
    while True:
        response = conn.request("GET", "api/v1/employees", params=params)
        started = started or server_time(response)
        body = json_object(response)
        ids += [str(r["employeeId"]) for r in body.get("data", [])]
        after = (body.get("meta") or {}).get("page", {}).get("nextCursor")
        if not after:
            return {"ids": ids, "offset": 0, "latest": started}
        params["page[after]"] = str(after)
