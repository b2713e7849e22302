"""NetSuite record types the sandbox serves: fields, mandatory fields (by their UI label,
as NetSuite's message names them), reference fields and their valid ids, and the SuiteQL
row form of a record (lower-case columns, references flattened to ids, booleans T/F)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class NetSuiteError(Exception):
    def __init__(self, status: int, detail: str, code: str, **extra: str):
        super().__init__(detail)
        self.status, self.detail, self.code, self.extra = status, detail, code, extra


SUBSIDIARIES = {"1": "Parent Company", "2": "EMEA", "3": "APAC"}
ITEMS = {"210": "Consulting Services", "211": "Fixed-fee Services", "220": "Travel Expenses"}


@dataclass(frozen=True)
class RecordType:
    name: str
    table: str
    fields: dict[str, str]  # name -> string|number|boolean|date|duration|ref|object
    mandatory: dict[str, str] = field(default_factory=dict)  # field -> label in the message
    refs: dict[str, str] = field(default_factory=dict)  # ref field -> record type it points at
    fixed_refs: dict[str, dict[str, str]] = field(default_factory=dict)  # ref field -> valid ids


_COMMON = {"id": "string", "externalId": "string", "lastModifiedDate": "string", "dateCreated": "string"}

TYPES: dict[str, RecordType] = {
    t.name: t
    for t in (
        RecordType(
            "customer",
            "customer",
            {
                **_COMMON,
                "entityId": "string",
                "companyName": "string",
                "email": "string",
                "subsidiary": "ref",
                "currency": "ref",
                "phone": "string",
                "isInactive": "boolean",
            },
            {"companyName": "Company Name", "subsidiary": "Primary Subsidiary"},
            {},
            {"subsidiary": SUBSIDIARIES, "currency": {"1": "USD", "2": "EUR", "3": "GBP"}},
        ),
        RecordType(
            "job",
            "job",
            {
                **_COMMON,
                "entityId": "string",
                "companyName": "string",
                "parent": "ref",
                "subsidiary": "ref",
                "currency": "ref",
                "entityStatus": "ref",
                "startDate": "date",
                "projectedEndDate": "date",
                "projectManager": "ref",
                "allowTime": "boolean",
                "allowExpenses": "boolean",
                "jobBillingType": "ref",
            },
            {"companyName": "Project Name", "parent": "Customer"},
            {"parent": "customer", "projectManager": "employee"},
            {"subsidiary": SUBSIDIARIES},
        ),
        RecordType(
            "employee",
            "employee",
            {
                **_COMMON,
                "entityId": "string",
                "firstName": "string",
                "lastName": "string",
                "email": "string",
                "title": "string",
                "subsidiary": "ref",
                "department": "ref",
                "supervisor": "ref",
                "hireDate": "date",
                "isJobResource": "boolean",
                "laborCost": "number",
                "location": "ref",
            },
            {"firstName": "First Name", "lastName": "Last Name", "subsidiary": "Subsidiary"},
            {"supervisor": "employee"},
            {"subsidiary": SUBSIDIARIES},
        ),
        RecordType(
            "timeBill",
            "timebill",
            {
                **_COMMON,
                "employee": "ref",
                "customer": "ref",
                "caseTaskEvent": "ref",
                "tranDate": "date",
                "hours": "duration",
                "isBillable": "boolean",
                "item": "ref",
                "rate": "number",
                "memo": "string",
                "approvalStatus": "ref",
            },
            {"employee": "Employee", "tranDate": "Date", "hours": "Duration"},
            {"employee": "employee", "customer": "job"},
            {"item": ITEMS},
        ),
        RecordType(
            "invoice",
            "transaction",
            {
                **_COMMON,
                "tranId": "string",
                "entity": "ref",
                "job": "ref",
                "tranDate": "date",
                "dueDate": "date",
                "status": "ref",
                "total": "number",
                "currency": "ref",
                "memo": "string",
                "item": "object",
            },
            {"entity": "Customer"},
            {"entity": "customer", "job": "job"},
        ),
    )
}


_BY_LOWER = {name.lower(): rt for name, rt in TYPES.items()}
# A duration field ("Duration" in the schema browser) is hours and minutes, e.g. "7:30".
DURATION = re.compile(r"^\d{1,3}:[0-5]\d$")


def record_type(name: str) -> RecordType:
    """Record types by their REST name, in any case: `timebill` is the record's script id and
    `timeBill` the REST browser's spelling, and both address the same record."""
    rt = _BY_LOWER.get(name.lower())
    if rt is None:
        raise NetSuiteError(404, f"Record type '{name}' does not exist.", "NONEXISTENT_RECORD_TYPE")
    return rt


def as_duration(hours: float) -> str:
    minutes = round(hours * 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def duration_hours(value: Any) -> Any:
    """ "7:30" -> 7.5 (SuiteQL answers a duration column as a number of hours [unverified])."""
    if isinstance(value, str) and DURATION.match(value):
        hours, minutes = value.split(":")
        return round(int(hours) + int(minutes) / 60, 4)
    return value


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _type_ok(kind: str, value: Any) -> bool:
    if value is None:
        return True
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "duration":
        return isinstance(value, str) and bool(DURATION.match(value))
    if kind == "ref":
        return isinstance(value, dict) and ("id" in value or "externalId" in value)
    if kind == "object":
        return isinstance(value, dict)
    return isinstance(value, str)


def validate(rt: RecordType, body: Any, *, creating: bool, exists) -> dict[str, Any]:
    """The body's fields, or NetSuiteError with NetSuite's wording. `exists(type, id)` checks references."""
    if not isinstance(body, dict):
        raise NetSuiteError(400, "Invalid content in the request body: a JSON object is expected.", "INVALID_CONTENT")
    for name, value in body.items():
        if name not in rt.fields or name in ("id", "lastModifiedDate", "dateCreated"):
            raise NetSuiteError(
                400,
                f"Invalid field name '{name}' for record type '{rt.name}'.",
                "INVALID_FIELD",
                **{"o:errorPath": name},
            )
        if not _type_ok(rt.fields[name], value):
            raise NetSuiteError(400, f"Invalid value for field {name}.", "INVALID_VALUE", **{"o:errorPath": name})
        ref_id = str(value.get("id", "")) if isinstance(value, dict) and rt.fields[name] == "ref" else None
        if ref_id and name in rt.fixed_refs and ref_id not in rt.fixed_refs[name]:
            raise NetSuiteError(400, f"Invalid value for field {name}.", "INVALID_VALUE", **{"o:errorPath": name})
        if ref_id and name in rt.refs and not exists(rt.refs[name], ref_id):
            raise NetSuiteError(400, f"Invalid value for field {name}.", "INVALID_VALUE", **{"o:errorPath": name})
    if creating:
        missing = [label for name, label in rt.mandatory.items() if body.get(name) in (None, "", {})]
        if missing:
            raise NetSuiteError(400, f"Please enter value(s) for: {', '.join(missing)}.", "USER_ERROR")
    return body


def suiteql_row(rt: RecordType, data: dict[str, Any]) -> dict[str, Any]:
    """A record as SuiteQL holds it: lower-case columns, references as ids, booleans T/F.
    Dates stay ISO here (conditions and ORDER BY compare them); the answer formats them
    by the account's date preference (`account.present`)."""
    row: dict[str, Any] = {"type": "CustInvc"} if rt.table == "transaction" else {}
    for name, value in data.items():
        key = name.lower()
        if isinstance(value, dict) and "id" in value:
            row[key] = str(value["id"])
        elif isinstance(value, bool):
            row[key] = "T" if value else "F"
        elif isinstance(value, dict | list):
            continue
        elif rt.fields.get(name) == "duration":
            row[key] = duration_hours(value)
        else:
            row[key] = value
    return row


def columns(rt: RecordType) -> set[str]:
    return {name.lower() for name in rt.fields} | ({"type"} if rt.table == "transaction" else set())
