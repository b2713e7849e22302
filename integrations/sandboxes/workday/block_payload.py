"""The body of a worker time block as Workday's Time Tracking REST service takes it
(docs/VENDORS_HR_ERP.md, Workday): hourly entry is `calendarDate` + `reportedQuantity`, in/out
entry is `inTime`/`outTime` with `inTimeZone`/`outTimeZone`; both name a `timeEntryCode` and
may name a `project` and `projectPlanTask`. References are `{"id": <WID or Type=Value>}`.
Any other field is refused (400 naming it), as the old invented `date`, `quantity` and
`externalReferenceID` now are."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

from django.http import HttpRequest

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.workday import VENDOR
from integrations.sandboxes.workday.rest import WorkdayError

REFERENCES = ("timeEntryCode", "project", "projectPlanTask", "inTimeZone", "outTimeZone", "worker")
FIELDS = {*REFERENCES, "calendarDate", "reportedQuantity", "inTime", "outTime", "comment", "doNotBill"}
IN_OUT = ("inTime", "outTime", "inTimeZone", "outTimeZone")
# What Workday's REST reference ids look like: a WID, a `123$456` id, or `Type_ID=value`.
ID_PATTERN = re.compile(r"^(?:[0-9a-f]{32}|[0-9]+\$[0-9]+|\S+=\S+)$")
# The references the sandbox holds records for (others are checked for form only).
CATALOGUES = {"timeEntryCode": "timeEntryCodes", "project": "projects"}


def invalid(field: str, message: str) -> WorkdayError:
    return WorkdayError(400, f"Validation error occurred. {message}", field)


def parse(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise WorkdayError(400, "invalid request: the body is not valid JSON")
    if not isinstance(body, dict):
        raise WorkdayError(400, "invalid request: the body must be a JSON object")
    for name in body:
        if name not in FIELDS:
            raise WorkdayError(400, f"invalid request: unknown field {name}", name)
    return body


def checked(body: dict, worker_id: str) -> dict:
    """The body's fields, each valid, references completed with their descriptors."""
    values: dict = {}
    for name, value in body.items():
        if name in REFERENCES:
            values[name] = _reference(name, value, worker_id)
        elif name == "calendarDate":
            values[name] = _calendar_date(value)
        elif name == "reportedQuantity":
            values[name] = _quantity(value)
        elif name in ("inTime", "outTime"):
            _moment(name, value)
            values[name] = value
        elif name == "comment" and not isinstance(value, str):
            raise invalid(name, "comment must be text.")
        elif name == "doNotBill" and not isinstance(value, bool):
            raise invalid(name, "doNotBill must be true or false.")
        else:
            values[name] = value
    values.pop("worker", None)  # the worker is the one in the path
    return values


def complete(block: dict) -> dict:
    """A whole block (after a create, or a change merged in): one way of entry, a code."""
    if not block.get("timeEntryCode"):
        raise invalid("timeEntryCode", "timeEntryCode is required.")
    if any(block.get(name) for name in IN_OUT):
        if block.get("reportedQuantity") is not None:
            raise invalid("reportedQuantity", "reportedQuantity cannot be given with inTime and outTime.")
        for name in IN_OUT:
            if not block.get(name):
                raise invalid(name, f"{name} is required for in/out time entry.")
        if _moment("outTime", block["outTime"]) <= _moment("inTime", block["inTime"]):
            raise invalid("outTime", "outTime must be after inTime.")
        return {**block, "calendarDate": block["inTime"][:10]}
    for name in ("calendarDate", "reportedQuantity"):
        if block.get(name) in (None, ""):
            raise invalid(name, f"{name} is required.")
    return block


def _reference(name: str, value: object, worker_id: str) -> dict:
    ref_id = value.get("id") if isinstance(value, dict) else None
    if not isinstance(ref_id, str) or not ID_PATTERN.match(ref_id):
        raise invalid(name, f"Invalid ID value. '{ref_id}' is not a valid ID value for {name}.")
    if name == "worker":
        if ref_id != worker_id:
            raise invalid(name, f"The worker '{ref_id}' is not the worker of this resource ({worker_id}).")
        return {"id": ref_id}
    catalogue = CATALOGUES.get(name)
    if catalogue is None:
        return {"id": ref_id}
    row = store.get(VENDOR, catalogue, ref_id)
    if row is None:
        raise invalid(name, f"Invalid ID value. '{ref_id}' is not a valid ID value for {name}.")
    return {"id": ref_id, "descriptor": row.data["descriptor"]}


def _calendar_date(value: object) -> str:
    text = str(value)
    try:
        date.fromisoformat(text[:10])
        if len(text) > 10:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid("calendarDate", f"'{text}' is not a valid date.")
    return text[:10]


def _quantity(value: object) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 24:
        raise invalid("reportedQuantity", "reportedQuantity must be a number greater than 0 and no more than 24.")
    return value


def _moment(name: str, value: object) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise invalid(name, f"'{value}' is not a valid date and time with a time zone offset.")
    return moment
