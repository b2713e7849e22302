"""System-of-record ownership: which system (role) may change which field of a canonical
object. Built-in defaults below; the ownership page stores a person's choice as an
`OwnershipRule` row, which wins over the default. A rule on field '*' covers every field
of the object that has no rule of its own.

    owner_of("worker", "cost_rate")        → "hr"
    set_owner(user, "worker", "cost_rate", "psa")   # audited
    rules_for("worker")                    → one OwnedField per canonical field
"""

from dataclasses import dataclass

from django.db import transaction

from integrations.audit import services as audit
from integrations.canonical import registry
from integrations.crosswalk.models import OwnershipRule
from integrations.crosswalk.systems import System

WHOLE = "*"

# (object, field) → owning role. "Cost centre" is the worker's practice in the canonical
# worker; "billing terms" are the client's payment terms and the project's billing type.
DEFAULTS: dict[tuple[str, str], str] = {
    ("worker", "first_name"): System.HR,
    ("worker", "last_name"): System.HR,
    ("worker", "status"): System.HR,
    ("worker", "termination_date"): System.HR,
    ("worker", "practice"): System.HR,
    ("worker", "cost_rate"): System.HR,
    ("worker", "cost_currency"): System.HR,
    ("assignment", WHOLE): System.PSA,
    ("timesheet", WHOLE): System.PSA,
    ("expense", WHOLE): System.PSA,
    ("client", "payment_terms_days"): System.ERP,
    ("project", "billing_type"): System.ERP,
    ("invoice_event", WHOLE): System.ERP,
    ("revenue_milestone", WHOLE): System.ERP,
    ("project", "crm_opportunity_id"): System.CRM,
    ("project", "contract_value"): System.CRM,
}


class RuleInvalid(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class OwnedField:
    object: str
    field: str
    owner: str  # '' = anyone may write it
    default: str
    changed: bool  # a person chose the owner (a stored rule differs from nothing)


def _stored(object: str) -> dict[str, str]:
    return dict(OwnershipRule.objects.filter(object=object).values_list("field", "owner"))


def _resolve(object: str, field: str, stored: dict[str, str]) -> str:
    top = field.split(".")[0]  # a nested path is owned like its top-level field
    for key in (top, WHOLE):
        if key in stored:
            return stored[key]
        if (object, key) in DEFAULTS:
            return str(DEFAULTS[(object, key)])
    return ""


def owner_of(object: str, field: str) -> str:
    """The role that owns `object.field` ('' when nobody does)."""
    return _resolve(object, field, _stored(object))


def owners_of(object: str, fields) -> dict[str, str]:
    """owner_of for many fields with one query."""
    stored = _stored(object)
    return {field: _resolve(object, field, stored) for field in fields}


def default_owner(object: str, field: str) -> str:
    return _resolve(object, field, {})


def canonical_fields(object: str) -> list[str]:
    schema = registry.get_schema(object, registry.list_versions(object)[-1])
    return [name for name in schema.get("properties", {}) if name not in ("id", "external_ids")]


def rules_for(object: str) -> list[OwnedField]:
    stored = _stored(object)
    rows = [OwnedField(object, WHOLE, *_pair(object, WHOLE, stored))]
    rows += [OwnedField(object, field, *_pair(object, field, stored)) for field in canonical_fields(object)]
    return rows


def _pair(object: str, field: str, stored: dict[str, str]) -> tuple[str, str, bool]:
    return _resolve(object, field, stored), _resolve(object, field, {}), field in stored


def validate(object: str, field: str, owner: str) -> None:
    if object not in registry.list_objects():
        raise RuleInvalid("object", f"'{object}' is not a canonical object")
    if field != WHOLE and field not in canonical_fields(object):
        raise RuleInvalid("field", f"'{field}' is not a field of {object}")
    if owner not in ("", *System.values):
        raise RuleInvalid("owner", f"'{owner}' is not a system; choose one of {', '.join(System.values)} or nobody")


@transaction.atomic
def set_owner(user, object: str, field: str, owner: str, *, reason: str = "") -> OwnershipRule:
    """Store a person's choice of owner (audited with before and after)."""
    validate(object, field, owner)
    before = owner_of(object, field)
    rule, _ = OwnershipRule.objects.update_or_create(
        object=object, field=field, defaults={"owner": owner, "updated_by": user if user and user.pk else None}
    )
    audit.record(
        user,
        "ownership.change",
        rule,
        before={"owner": before or ""},
        after={"owner": owner},
        message=reason[:500],
    )
    return rule


@transaction.atomic
def reset_owner(user, object: str, field: str) -> None:
    """Forget a person's choice: the built-in default holds again (audited)."""
    rule = OwnershipRule.objects.filter(object=object, field=field).first()
    if rule is None:
        return
    audit.record(
        user, "ownership.reset", rule, before={"owner": rule.owner}, after={"owner": default_owner(object, field)}
    )
    rule.delete()
