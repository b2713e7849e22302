"""An approval as its card shows it: the business summary first (client, project, amount,
hours, read from the record the step saw), why it came to this person, and whether they
may decide it (integrations.approvals.services.may_decide is the rule)."""

import json
from dataclasses import dataclass

from integrations.approvals import services as approvals
from integrations.approvals.models import ApprovalTask

# What each summary line is called in records, most specific first (compared without case,
# "_" and "-"): the approve step hands over the record as it was, whatever its shape.
SUMMARY_FIELDS = (
    ("Client", ("client", "clientname", "customer", "customername", "account", "accountname", "company")),
    ("Project", ("project", "projectname", "workspace", "title", "opportunity", "name")),
    ("Amount", ("amount", "total", "price", "value", "invoiceamount")),
    ("Hours", ("hours", "unbilledhours", "quantity", "duration")),
)
CURRENCY_KEYS = ("currency", "currencyisocode", "currencycode")


@dataclass
class Card:
    task: ApprovalTask
    summary: list[tuple[str, str]]
    why: str
    can_decide: bool
    form_errors: dict | None = None  # {"comment": "...", "assignee": "..."} after a refused POST
    notice: str = ""

    @property
    def record_json(self) -> str:
        return json.dumps(self.task.record, indent=2, ensure_ascii=False, default=str)


def summary_of(record) -> list[tuple[str, str]]:
    """[(label, value)] for the summary lines the record holds, nested one level at most."""
    flat = _flatten(record if isinstance(record, dict) else {})
    lines, used = [], set()
    for label, names in SUMMARY_FIELDS:
        key = next((k for name in names for k in flat if k not in used and _norm(k) == name), None)
        if key is None or flat[key] in (None, "", [], {}):
            continue
        used.add(key)
        value = str(flat[key])
        if label == "Amount":
            currency = next((flat[k] for k in flat if _norm(k) in CURRENCY_KEYS and flat[k]), "")
            value = f"{value} {currency}".strip()
        lines.append((label, value))
    return lines


def _flatten(record: dict) -> dict:
    """Top-level values, then those of nested objects; a nested object with a name stands for
    its key ({"customer": {"name": "Acme"}} reads as customer = Acme)."""
    flat = {k: v for k, v in record.items() if not isinstance(v, (dict, list))}
    for outer, inner in record.items():
        if not isinstance(inner, dict):
            continue
        name_key = next((k for k in inner if _norm(k) in ("name", "title")), None)
        if name_key and outer not in flat:
            flat[outer] = inner[name_key]
        for key, value in inner.items():
            if key != name_key and key not in flat and not isinstance(value, (dict, list)):
                flat[key] = value
    return flat


def _norm(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def why(task: ApprovalTask, user, groups: set[str]) -> str:
    """Why this person sees it, or who it waits for when they may not decide it."""
    named = task.approvers.get("users") or ([task.approvers["user"]] if task.approvers.get("user") else [])
    if task.assignee_id and task.assignee_id == user.pk:
        return "Escalated to you past its due time." if task.escalated_at else "Assigned to you."
    if not task.assignee_id and user.get_username() in named:
        if task.policy == "all":
            return f"You are one of {len(named)} named approvers; every one must approve."
        return "You are named as an approver."
    if not task.assignee_id and not named and task.group and task.group.lower() in groups:
        return f"You are in the {task.group} group, which approves this step."
    if approvals.may_decide(task, user, groups):
        return "Admins may decide every approval."
    return "Waiting for " + waiting_for(task, named) + "."


def waiting_for(task: ApprovalTask, named: list[str]) -> str:
    if task.assignee_id:
        return task.assignee.get_username()
    if named:
        return ", ".join(named)
    return f"the {task.group} group" if task.group else "any approver"


def card_for(task: ApprovalTask, user, groups: set[str], **extra) -> Card:
    may = task.status == "pending" and approvals.may_decide(task, user, groups)
    return Card(task, summary_of(task.record), why(task, user, groups), may, **extra)
