"""Kantata resources in the sandbox: their keys, writable attributes, index filters and
Kantata's validation messages ("Title can't be blank"). Pure: no ORM, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class Resource:
    key: str  # plural key used in paths and envelopes: "workspaces"
    singular: str  # root key of a create/update body: "workspace"
    subject_type: str  # as external references name it: "Workspace"
    writable: tuple[str, ...]
    required: tuple[str, ...] = ()
    creatable: bool = True
    # index filters: name -> how to apply ("eq", "bool", "between", "after")
    filters: dict[str, str] = field(default_factory=dict)
    needs_filter: str | None = None  # an index that refuses to list without this filter


RESOURCES = {
    r.key: r
    for r in (
        Resource("workspaces", "workspace", "Workspace",
                 ("title", "description", "creator_role", "budgeted", "price", "currency", "start_date", "due_date",
                  "archived", "primary_counterpart_id"),
                 required=("title", "creator_role"),
                 filters={"updated_after": "after", "archived": "bool"}),
        Resource("users", "user", "User", (), creatable=False,
                 filters={"updated_after": "after", "by_email_address": "email"}),
        # `approved` is read only (set by an approved timesheet) and its filter ignores the value.
        Resource("time_entries", "time_entry", "TimeEntry",
                 ("workspace_id", "user_id", "story_id", "date_performed", "time_in_minutes", "billable", "notes",
                  "rate_in_cents", "role_id"),
                 required=("workspace_id", "date_performed", "time_in_minutes"),
                 filters={"workspace_id": "eq", "user_id": "eq", "updated_after": "after", "approved": "approved",
                          "billable": "bool", "uninvoiced": "uninvoiced", "date_performed_between": "between"}),
        Resource("stories", "story", "Story",
                 ("workspace_id", "title", "story_type", "state", "start_date", "due_date", "assignee_ids",
                  "time_estimate_in_minutes", "billable", "parent_id"),
                 required=("workspace_id", "title"),
                 filters={"workspace_id": "eq", "updated_after": "after"}),
        Resource("participations", "participation", "Participation",
                 ("workspace_id", "user_id", "role", "permission", "is_team_lead"),
                 required=("workspace_id", "user_id", "role"),
                 filters={"workspace_id": "eq", "user_id": "eq", "updated_after": "after"},
                 needs_filter="workspace_id"),
        Resource("expenses", "expense", "Expense",
                 ("workspace_id", "user_id", "date", "category", "amount_in_cents", "currency", "billable", "notes"),
                 required=("workspace_id", "date", "category", "amount_in_cents"),
                 filters={"workspace_id": "eq", "user_id": "eq", "updated_after": "after", "billable": "bool",
                          "uninvoiced": "uninvoiced"}),
        Resource("invoices", "invoice", "Invoice", (), creatable=False,
                 filters={"updated_after": "after", "paid": "bool", "status": "eq"}),
        # The index needs subject_type; filters on service_name / service_model / service_model_ref are not
        # among those we could confirm for it, so they are ignored here (Rails ignores unknown parameters):
        # look-ups go through the subject's index and its external_reference_* filters.
        Resource("external_references", "external_reference", "ExternalReference",
                 ("subject_type", "subject_id", "service_name", "service_model", "service_model_ref", "status",
                  "external_link", "external_message"),
                 required=("subject_type", "subject_id", "service_name", "service_model", "service_model_ref"),
                 filters={"subject_type": "eq", "external_message": "eq"}),
    )
}  # fmt: skip
SUBJECTS = {r.subject_type: r for r in RESOURCES.values()}
CHOICES = {
    "creator_role": ("maven", "buyer"),
    "role": ("maven", "buyer"),
    "story_type": ("task", "milestone", "deliverable", "issue"),
    "state": ("not started", "started", "needs feedback", "blocked", "completed"),
    "permission": ("viewer", "edit", "financial", "project_lead"),
}


class Invalid(ValueError):
    """A Kantata validation error: 422 `{"errors": [{"type": "validation", "field", "message"}]}`."""

    def __init__(self, field_name: str | None, message: str, status: int = 422, kind: str = "validation"):
        super().__init__(message)
        self.field, self.message, self.status, self.kind = field_name, message, status, kind


def _human(name: str) -> str:
    return name.replace("_id", "").replace("_", " ").capitalize()


def _date(name: str, value: object) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise Invalid(name, f"{_human(name)} is not a valid date") from None


def _number(name: str, value: object, *, positive: bool = False) -> int:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise Invalid(name, f"{_human(name)} is not a number") from None
    if positive and number <= 0:
        raise Invalid(name, f"{_human(name)} must be greater than 0")
    return int(number)


def _value(name: str, value: object) -> object:
    if value is None or value == "":
        return None
    if name in CHOICES and value not in CHOICES[name]:
        raise Invalid(name, f"{_human(name)} is not included in the list")
    if name in ("start_date", "due_date", "date_performed", "date"):
        return _date(name, value)
    if name == "time_in_minutes":
        return _number(name, value, positive=True)
    if name in ("rate_in_cents", "time_estimate_in_minutes", "amount_in_cents"):
        number = _number(name, value)
        if number < 0:
            raise Invalid(name, f"{_human(name)} must be greater than or equal to 0")
        return number
    if name in ("budgeted", "billable", "archived", "is_team_lead"):
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1")
    if name == "price":
        try:
            return str(Decimal(str(value).replace("$", "").replace(",", "")))
        except InvalidOperation:
            raise Invalid(name, "Price is not a number") from None
    if name.endswith("_id") or name == "subject_id":
        return str(value)
    if name == "assignee_ids":
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return str(value)


def clean(resource: Resource, attributes: object, *, creating: bool) -> dict:
    """Writable attributes, typed; unknown attributes are ignored as Rails strong parameters do."""
    if not isinstance(attributes, dict):
        raise Invalid(None, f"Request body must contain a '{resource.singular}' object", 400, "system")
    values = {name: _value(name, attributes[name]) for name in resource.writable if name in attributes}
    if creating:
        for name in resource.required:
            if values.get(name) in (None, ""):
                raise Invalid(name, f"{_human(name)} can't be blank")
    elif any(name in values and values[name] in (None, "") for name in resource.required):
        name = next(n for n in resource.required if n in values and values[n] in (None, ""))
        raise Invalid(name, f"{_human(name)} can't be blank")
    return values


def check_dates(record: dict) -> None:
    start, due = record.get("start_date"), record.get("due_date")
    if start and due and due < start:
        raise Invalid("due_date", "Due date must be on or after the start date")


def price_fields(price: str | None) -> dict:
    """Kantata shows price formatted and keeps cents alongside."""
    if price is None:
        return {"price": None, "price_in_cents": None}
    cents = int(Decimal(price) * 100)
    return {"price": f"${Decimal(cents) / 100:,.0f}", "price_in_cents": cents}
