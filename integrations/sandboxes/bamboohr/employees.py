"""BambooHR employee records in the sandbox: stored fields, the projections each endpoint
returns (Get Employee by field names, List Employees' fixed set + optional fields, the
directory), and write validation with BambooHR's status codes (400 missing/malformed,
409 invalid value)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from integrations.sandboxes.models import SandboxRecord


class BambooError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


# Field name -> kind; these are the names Create/Update Employee and Get Employee accept.
FIELDS = {
    "employeeNumber": "str",
    "firstName": "str",
    "lastName": "str",
    "preferredName": "str",
    "middleName": "str",
    "workEmail": "email",
    "homeEmail": "email",
    "jobTitle": "str",
    "department": "str",
    "division": "str",
    "location": "str",
    "hireDate": "date",
    "terminationDate": "date",
    "status": "status",
    "supervisorEId": "str",
    "employmentHistoryStatus": "str",
    "workPhone": "str",
    "mobilePhone": "str",
    "country": "str",
    "city": "str",
}
# Read-only fields Get Employee returns: the stamp BambooHR keeps of an employee's last change
# (https://documentation.bamboohr.com/docs/list-of-field-names, "lastChanged").
READ_ONLY = ("lastChanged",)
# Aliases Get Employee also understands, mapped to the stored field.
ALIASES = {"jobTitleName": "jobTitle", "reportsToId": "supervisorEId", "employmentStatus": "employmentHistoryStatus"}
# List Employees optional fields (EmployeeOptionalField) -> stored field.
OPTIONAL_LIST_FIELDS = {
    "workEmail": "workEmail",
    "homeEmail": "homeEmail",
    "middleName": "middleName",
    "workPhone": "workPhone",
    "mobilePhone": "mobilePhone",
    "hireDate": "hireDate",
    "divisionName": "division",
    "departmentName": "department",
    "locationName": "location",
    "employmentStatusName": "employmentHistoryStatus",
    "reportsToId": "supervisorEId",
}
DIRECTORY_FIELDS = [
    ("displayName", "text", "Display name"),
    ("firstName", "text", "First name"),
    ("lastName", "text", "Last name"),
    ("preferredName", "text", "Preferred name"),
    ("jobTitle", "list", "Job title"),
    ("workEmail", "email", "Work Email"),
    ("department", "list", "Department"),
    ("location", "list", "Location"),
    ("division", "list", "Division"),
    ("photoUrl", "url", "Employee photo"),
]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _valid(kind: str, value: Any) -> bool:
    if value is None or value == "":
        return True
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return False
    if kind == "email":
        return bool(_EMAIL.match(str(value)))
    if kind == "date":
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return False
        return True
    if kind == "status":
        return value in ("Active", "Inactive")
    return True


def clean(body: Any, *, creating: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BambooError(400, "The request body must be a JSON object of field names and values.")
    unknown = [name for name in body if name not in FIELDS]
    if unknown:
        raise BambooError(400, f"Unknown field name(s): {', '.join(unknown)}.")
    if creating:
        missing = [name for name in ("firstName", "lastName") if not body.get(name)]
        if missing:
            raise BambooError(400, f"Missing required field(s): {', '.join(missing)}.")
    for name, value in body.items():
        if not _valid(FIELDS[name], value):
            raise BambooError(409, f"Invalid value for field '{name}': {value!r}.")
    return {name: (str(value) if value is not None else None) for name, value in body.items()}


def get_view(row: SandboxRecord, fields: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.record_id}
    for name in fields:
        stored = ALIASES.get(name, name)
        if stored in FIELDS or stored in READ_ONLY:
            out[name] = row.data.get(stored)
    return out


def list_view(row: SandboxRecord, optional: list[str]) -> dict[str, Any]:
    d = row.data
    out = {
        "employeeId": row.record_id,
        "firstName": d.get("firstName"),
        "lastName": d.get("lastName"),
        "preferredName": d.get("preferredName"),
        "photoUrl": None,
        "jobTitleName": d.get("jobTitle"),
        "status": d.get("status"),
        "_restrictedFields": [],
    }
    for name in optional:
        if name in OPTIONAL_LIST_FIELDS:
            out[name] = d.get(OPTIONAL_LIST_FIELDS[name])
    return out


def directory_view(row: SandboxRecord) -> dict[str, Any]:
    d = row.data
    shown = d.get("preferredName") or d.get("firstName")
    entry = {"id": row.record_id, "displayName": f"{shown} {d.get('lastName')}"}
    entry.update({name: d.get(name) for name, _kind, _label in DIRECTORY_FIELDS if name not in ("displayName",)})
    entry["photoUploaded"] = False
    entry["canUploadPhoto"] = 1
    return entry
