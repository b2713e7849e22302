"""HubSpot object types in the sandbox, their properties, and HubSpot's property
validation (all values are strings; errors name the property). Pure."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

DEAL_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
               "contractsent", "closedwon", "closedlost")  # fmt: skip
READ_ONLY = ("hs_object_id", "createdate", "hs_lastmodifieddate", "lastmodifieddate")


@dataclass(frozen=True)
class ObjectType:
    name: str  # deals
    singular: str  # Deal
    type_id: str  # 0-3
    properties: dict[str, str]  # name -> string, number, date, datetime, enumeration, email
    defaults: tuple[str, ...]  # returned when the caller names no properties
    unique: str  # the property usable as idProperty besides hs_object_id
    required: tuple[str, ...] = ()
    modified: str = "hs_lastmodifieddate"

    def id_properties(self) -> tuple[str, ...]:
        return ("hs_object_id", self.unique)


_SYSTEM = {"hs_object_id": "number", "createdate": "datetime", "hs_lastmodifieddate": "datetime"}
# The firm's custom deal properties (HubSpot: "you can also create and manage your own custom
# properties", each with a `type` such as string, number or date —
# https://developers.hubspot.com/docs/api/crm/properties): the ids lead to project writes back
# and the last invoice that invoice status back reports. Values are strings like every property.
DEAL_CUSTOM = {"psa_project_id": "string", "erp_project_id": "string", "last_invoice_number": "string",
               "last_invoice_status": "string", "last_invoice_amount": "number", "last_invoice_currency": "string",
               "last_invoice_date": "date", "last_invoice_paid_date": "date"}  # fmt: skip
TYPES = {
    "deals": ObjectType(
        "deals", "Deal", "0-3",
        {"dealname": "string", "amount": "number", "dealstage": "enumeration", "pipeline": "string",
         "closedate": "datetime", "hubspot_owner_id": "string", "deal_currency_code": "string", "region": "string",
         "external_id": "string", **DEAL_CUSTOM, **_SYSTEM},
        defaults=("dealname", "amount", "dealstage", "pipeline", "closedate", "createdate", "hs_lastmodifieddate",
                  "hs_object_id"),
        unique="external_id",
        required=("dealname", "dealstage"),
    ),
    "companies": ObjectType(
        "companies", "Company", "0-2",
        {"name": "string", "domain": "string", "industry": "string", "country": "string",
         "erp_customer_id": "string", **_SYSTEM},
        defaults=("name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"),
        unique="erp_customer_id",
    ),
    "contacts": ObjectType(
        "contacts", "Contact", "0-1",
        {"email": "email", "firstname": "string", "lastname": "string", "jobtitle": "string",
         "associatedcompanyid": "number", "hs_object_id": "number", "createdate": "datetime",
         "lastmodifieddate": "datetime"},
        defaults=("email", "firstname", "lastname", "createdate", "lastmodifieddate", "hs_object_id"),
        unique="email",
        modified="lastmodifieddate",
    ),
}  # fmt: skip
TYPE_IDS = {t.type_id: t for t in TYPES.values()}


class PropertyError(ValueError):
    """400 VALIDATION_ERROR with HubSpot's per-property `errors`."""

    def __init__(self, problems: list[tuple[str, str, str]]):
        # problems: (property, code, message)
        self.problems = problems
        summary = [{"isValid": False, "message": m, "error": c, "name": p} for p, c, m in problems]
        super().__init__(f"Property values were not valid: {json.dumps(summary)}")

    @property
    def errors(self) -> list[dict]:
        return [{"message": m, "code": c, "context": {"propertyName": [p]}} for p, c, m in self.problems]


def object_type(name: str) -> ObjectType | None:
    return TYPES.get(name) or TYPE_IDS.get(name)


def _as_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _problem(otype: ObjectType, name: str, value: str) -> tuple[str, str, str] | None:
    kind = otype.properties.get(name)
    if kind is None:
        return name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'
    if name in READ_ONLY:
        return name, "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.'
    if value == "":
        return None  # clearing a property is allowed
    if kind == "number":
        try:
            Decimal(value)
        except InvalidOperation:
            return name, "INVALID_DECIMAL", f"{value} was not a valid number."
    if kind == "enumeration" and name == "dealstage" and value not in DEAL_STAGES:
        return name, "INVALID_OPTION", f"{value} was not one of the allowed options: [{', '.join(DEAL_STAGES)}]"
    if kind in ("date", "datetime") and not value.isdigit():
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return name, "INVALID_DATE", f"{value} is not a valid date or datetime (ISO 8601 or epoch milliseconds)."
    if kind == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        return name, "INVALID_EMAIL", f"Email address {value} is invalid"
    return None


def clean(otype: ObjectType, properties: object, *, creating: bool) -> dict[str, str]:
    """Properties as stored strings, or PropertyError naming every bad property."""
    if not isinstance(properties, dict):
        raise PropertyError([("properties", "INVALID_INPUT", "properties must be an object of name: value")])
    values = {str(k): _as_string(v) for k, v in properties.items()}
    problems = [p for name, value in values.items() if (p := _problem(otype, name, value))]
    if creating:
        problems += [(n, "REQUIRED", f'Property "{n}" is required') for n in otype.required if not values.get(n)]
    if problems:
        raise PropertyError(problems)
    return values
