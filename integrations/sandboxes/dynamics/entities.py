"""Entity sets the Dataverse sandbox serves: keys, alternate keys, columns, and the
validation Dataverse applies, with its error codes and wording."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class DataverseError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class EntitySet:
    name: str  # entity set, e.g. accounts
    logical: str  # logical name, e.g. account
    key: str  # primary key column
    alternate_key: str | None
    columns: dict[str, int | str]  # column -> max length for strings, or a type name
    lookups: dict[str, str] = field(default_factory=dict)  # navigation property -> target entity set

    @property
    def type_name(self) -> str:
        return f"Microsoft.Dynamics.CRM.{self.logical}"

    def known(self, name: str) -> bool:
        return (
            name in self.columns
            or name in (self.key, "modifiedon", "createdon", "statecode", "statuscode")
            or name in {f"_{_VALUE_NAME.get(nav, nav)}_value" for nav in self.lookups}
        )


_SYSTEM = {"statecode": "int", "statuscode": "int", "modifiedon": "datetime", "createdon": "datetime"}

SETS: dict[str, EntitySet] = {
    s.name: s
    for s in (
        EntitySet(
            "accounts",
            "account",
            "accountid",
            "accountnumber",
            {
                "name": 160,
                "accountnumber": 20,
                "emailaddress1": 100,
                "telephone1": 50,
                "address1_city": 80,
                "address1_country": 80,
                "revenue": "money",
                "description": 2000,
                **_SYSTEM,
            },
            {"parentaccountid": "accounts"},
        ),
        EntitySet(
            "contacts",
            "contact",
            "contactid",
            "emailaddress1",
            {
                "firstname": 50,
                "lastname": 50,
                "fullname": 160,
                "emailaddress1": 100,
                "jobtitle": 100,
                "telephone1": 50,
                **_SYSTEM,
            },
            {"parentcustomerid_account": "accounts"},
        ),
        EntitySet(
            "opportunities",
            "opportunity",
            "opportunityid",
            None,
            {
                "name": 300,
                "estimatedvalue": "money",
                "actualvalue": "money",
                "actualclosedate": "date",
                "estimatedclosedate": "date",
                "description": 2000,
                **_SYSTEM,
            },
            {"parentaccountid": "accounts"},
        ),
        EntitySet(
            "msdyn_projects",
            "msdyn_project",
            "msdyn_projectid",
            "sb_externalref",
            {
                "msdyn_subject": 200,
                "msdyn_description": 2000,
                "msdyn_scheduledstart": "datetime",
                "msdyn_finish": "datetime",
                "sb_externalref": 100,
                **_SYSTEM,
            },
            {"msdyn_customer_account": "accounts"},
        ),
        EntitySet(
            "msdyn_timeentries",
            "msdyn_timeentry",
            "msdyn_timeentryid",
            "sb_externalref",
            {
                "msdyn_date": "datetime",
                "msdyn_duration": "int",
                "msdyn_description": 500,
                "msdyn_type": "int",
                "msdyn_entrystatus": "int",
                "sb_externalref": 100,
                **_SYSTEM,
            },
            {"msdyn_project": "msdyn_projects", "msdyn_bookableresource": "bookableresources"},
        ),
        # Project contract lines (the Order Product table): Project Operations keeps a
        # project's billing structure here, not on msdyn_project — "Billing Method … the two
        # main contracting models supported by Project Operations: Fixed Price, Time and
        # Material" (https://learn.microsoft.com/en-us/dynamics365/project-operations/pro/sales/manage-contract-values-project-based-sales);
        # msdyn_billingmethod 192350000 Time and Material, 192350001 Fixed Price, and the
        # line's project lookup msdyn_Project, as the Web API reference lists them for project
        # lines (opportunityproduct, the line a contract line is made from). The contract
        # (salesorder) header is not simulated.
        EntitySet(
            "salesorderdetails",
            "salesorderdetail",
            "salesorderdetailid",
            "sb_externalref",
            {
                "productdescription": 500,
                "msdyn_billingmethod": "int",
                "priceperunit": "money",
                "sb_externalref": 100,
                **_SYSTEM,
            },
            {"msdyn_Project": "msdyn_projects"},
        ),
    )
}
# Option-set columns and the values Dataverse accepts in them.
CHOICES = {("salesorderdetails", "msdyn_billingmethod"): {192350000, 192350001}}
# Lookup columns are exposed as _<navigation>_value; contacts/projects use the customer nav name.
_VALUE_NAME = {
    "parentcustomerid_account": "parentcustomerid",
    "msdyn_customer_account": "msdyn_customer",
    "msdyn_Project": "msdyn_project",
}


def value_column(nav: str) -> str:
    """The lookup column a navigation property writes: `_<name>_value`."""
    return f"_{_VALUE_NAME.get(nav, nav)}_value"


def entity_set(name: str) -> EntitySet:
    if name not in SETS:
        raise DataverseError(404, "0x8006088a", f"Resource not found for the segment '{name}'.")
    return SETS[name]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    return str(uuid.uuid4())


def check_known(es: EntitySet, names: set[str]) -> None:
    for name in sorted(names):
        if not es.known(name):
            raise DataverseError(
                400, "0x80060888", f"Could not find a property named '{name}' on type '{es.type_name}'."
            )


def _check_value(es: EntitySet, name: str, value: Any) -> None:
    kind = es.columns.get(name)
    choices = CHOICES.get((es.name, name))
    if choices and value is not None and value not in choices:
        # [unverified] code and wording of Dataverse's answer to a value outside a choice column.
        raise DataverseError(
            400,
            "0x8004431a",
            f"A validation error occurred. The value {value} of '{name}' on record of type "
            f"'{es.logical}' is outside the valid range. Accepted Values: {','.join(map(str, sorted(choices)))}",
        )
    if isinstance(kind, int) and value is not None:
        if not isinstance(value, str):
            raise DataverseError(
                400,
                "0x80048d19",
                f"Error identified in Payload provided by the user for Entity :'{es.name}', "
                f"Cannot convert the literal '{value}' to the expected type 'Edm.String'.",
            )
        if len(value) > kind:
            raise DataverseError(
                400,
                "0x80044331",
                f"A validation error occurred. The length of the '{name}' attribute of the "
                f"'{es.logical}' entity exceeded the maximum allowed length of '{kind}'.",
            )
    if (
        kind in ("int", "money")
        and value is not None
        and (isinstance(value, bool) or not isinstance(value, int | float))
    ):
        edm = "Edm.Int32" if kind == "int" else "Edm.Decimal"
        raise DataverseError(
            400,
            "0x80048d19",
            f"Error identified in Payload provided by the user for Entity :'{es.name}', "
            f"Cannot convert the literal '{value}' to the expected type '{edm}'.",
        )


def apply_payload(es: EntitySet, payload: Any, resolve_lookup) -> dict[str, Any]:
    """Validated column values from a request body; `name@odata.bind` becomes `_name_value`."""
    if not isinstance(payload, dict):
        raise DataverseError(400, "0x80040216", "The request body must be a JSON object.")
    out: dict[str, Any] = {}
    for name, value in payload.items():
        if name.startswith("@odata."):
            continue
        if name.endswith("@odata.bind"):
            nav = name.removesuffix("@odata.bind")
            if nav not in es.lookups:
                raise DataverseError(
                    400,
                    "0x80060888",
                    f"An undeclared property '{nav}' which only has property annotations in the "
                    f"payload but no property value was found in the payload.",
                )
            out[f"_{_VALUE_NAME.get(nav, nav)}_value"] = resolve_lookup(es.lookups[nav], value)
            continue
        if name in ("modifiedon", "createdon") or not es.known(name):
            raise DataverseError(
                400,
                "0x80060888",
                f"The property '{name}' does not exist on type '{es.type_name}'. Make sure to only "
                f"use property names that are defined by the type.",
            )
        _check_value(es, name, value)
        out[name] = value
    return out
