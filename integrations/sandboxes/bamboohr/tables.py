"""BambooHR employee tables, the compensation table only: `GET /api/v1/employees/{id}/tables/
compensation` lists an employee's pay rows, `POST` to the same path adds one. A row is
effective-dated by its `startDate`; the row in force has no `endDate`, and adding a later one
closes it the day before (as the documented sample of changed table data shows: the older
row's endDate is the day before the newer row's startDate). Adding a row changes the
employee's lastChanged: BambooHR's change listings run on one employee-last-changed stamp.

Sources: get table rows https://documentation.bamboohr.com/reference/get-employee-table-row,
add a row https://documentation.bamboohr.com/reference/add-employee-table-row, row shape and
lastChanged https://documentation.bamboohr.com/reference/get-changed-employee-table-data."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.bamboohr import VENDOR
from integrations.sandboxes.bamboohr.auth import HOOKS
from integrations.sandboxes.bamboohr.employees import BambooError, now_iso
from integrations.sandboxes.framework import sandbox_endpoint

OBJECT = "compensation"
TABLES = ("compensation",)
ROW_FIELDS = ("startDate", "rate", "type", "exempt", "reason", "comment", "paidPer", "paySchedule", "overtimeRate")
PAY_TYPES = ("Hourly", "Salary", "Commission", "Exception Hourly", "Monthly", "Weekly", "Daily", "Pro Rata")
PAID_PER = ("Hour", "Day", "Week", "Month", "Quarter", "Year", "Pay Period")
_RATE = re.compile(r"^(\d+(?:\.\d{1,2})?)\s+([A-Z]{3})$")


def rows_of(employee_id: str) -> list:
    """An employee's rows, newest start first."""
    rows = store.records(VENDOR, OBJECT).filter(data__employeeId=str(employee_id))
    return sorted(rows, key=lambda r: (r.data["startDate"], int(r.record_id)), reverse=True)


def row_view(row) -> dict[str, Any]:
    return {"id": row.record_id, "employeeId": row.data["employeeId"], "endDate": row.data.get("endDate"),
            **{name: row.data.get(name) for name in ROW_FIELDS}}  # fmt: skip


def rate_text(value: Any) -> str:
    """`"56.00 USD"` (the form table rows carry) from that text or `{"value", "currency"}`."""
    if isinstance(value, dict):
        value = f"{value.get('value', '')} {value.get('currency', '')}"
    match = _RATE.match(str(value or "").strip())
    if not match:
        raise BambooError(406, "Invalid value for field 'rate': give an amount and a currency code, e.g. '56.00 USD'.")
    return f"{float(match.group(1)):.2f} {match.group(2)}"


def _start(value: Any) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise BambooError(406, "Invalid value for field 'startDate': give a date as YYYY-MM-DD.")


def clean_row(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BambooError(400, "The request body must be a JSON object of field names and values.")
    unknown = [name for name in body if name not in ROW_FIELDS]
    if unknown:
        raise BambooError(400, f"Unknown field name(s): {', '.join(unknown)}.")
    missing = [name for name in ("startDate", "rate") if not body.get(name)]
    if missing:
        raise BambooError(400, f"Missing required field(s): {', '.join(missing)}.")
    if body.get("type") not in (None, *PAY_TYPES):
        raise BambooError(406, f"Invalid value for field 'type': {body['type']!r}.")
    if body.get("paidPer") not in (None, *PAID_PER):
        raise BambooError(406, f"Invalid value for field 'paidPer': {body['paidPer']!r}.")
    values = {name: body.get(name) for name in ROW_FIELDS}
    values["startDate"], values["rate"] = _start(body["startDate"]), rate_text(body["rate"])
    if values.get("overtimeRate"):
        values["overtimeRate"] = rate_text(values["overtimeRate"])
    return values


def add_row(employee, values: dict[str, Any]) -> str:
    """Store the row, close the open row it follows, and mark the employee changed."""
    later = [r for r in rows_of(employee.record_id) if r.data["startDate"] > values["startDate"]]
    end = (date.fromisoformat(later[-1].data["startDate"]) - timedelta(days=1)).isoformat() if later else None
    for row in rows_of(employee.record_id):
        if row.data["startDate"] < values["startDate"] and row.data.get("endDate") is None:
            store.update(row, {"endDate": (date.fromisoformat(values["startDate"]) - timedelta(days=1)).isoformat()})
    row_id = str(store.next_number(VENDOR, OBJECT, 1))
    store.create(VENDOR, OBJECT, row_id, {"employeeId": employee.record_id, "endDate": end, **values})
    store.update(employee, {"lastChanged": now_iso()})
    return row_id


@sandbox_endpoint(HOOKS)
def table(request: HttpRequest, employee_id: int, table_name: str) -> HttpResponse:
    try:
        return _table(request, str(employee_id), table_name)
    except BambooError as exc:
        return HOOKS.error_response(exc.status, exc.message)


def _table(request: HttpRequest, employee_id: str, table_name: str) -> HttpResponse:
    if table_name not in TABLES:
        raise BambooError(404, f"Table '{table_name}' does not exist (this sandbox serves: {', '.join(TABLES)}).")
    employee = store.get(VENDOR, "employee", employee_id)
    if employee is None:
        raise BambooError(404, f"Employee {employee_id} does not exist.")
    if request.method == "GET":
        return JsonResponse([row_view(r) for r in rows_of(employee_id)], safe=False)
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise BambooError(400, "The posted JSON is malformed.")
    add_row(employee, clean_row(body))
    return HttpResponse(status=200)
