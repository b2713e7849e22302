"""The SObjects the Salesforce sandbox knows, their fields, and the validation Salesforce
applies to a create/update body, with Salesforce's own error codes and wording. Pure."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
SYSTEM_FIELDS = ("Id", "CreatedDate", "LastModifiedDate", "SystemModstamp")
# The firm's invoice fields on Opportunity (reference flow 5, invoice status back): the last
# invoice event the ERP reported for the opportunity's project. Values of the restricted
# picklist are the canonical invoice_event types, as a Salesforce admin would label them.
INVOICE_STATUSES = ("Issued", "Sent", "Partially Paid", "Paid", "Overdue", "Voided", "Credited")


@dataclass(frozen=True)
class FieldDetail:
    """What the org's setup says of a field beyond its type: its label, a Text field's length
    (longer values are refused with STRING_TOO_LONG), a currency's precision and scale, and a
    restricted picklist's values (others are refused with INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST).
    https://developer.salesforce.com/docs/atlas.en-us.sfFieldRef.meta/sfFieldRef/salesforce_field_reference.htm
    https://developer.salesforce.com/docs/platform/object-reference/guide/access-for-fields.html"""

    label: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    picklist: tuple[str, ...] = ()


# (SObject, field) → detail. Only these fields have their length enforced; the others keep
# the sandbox's earlier leniency.
FIELD_DETAILS: dict[tuple[str, str], FieldDetail] = {
    ("Opportunity", "StageName"): FieldDetail("Stage", length=255, picklist=STAGES),
    ("Opportunity", "Last_Invoice_Number__c"): FieldDetail("Last Invoice Number", length=40),
    ("Opportunity", "Last_Invoice_Status__c"): FieldDetail("Last Invoice Status", length=255,
                                                             picklist=INVOICE_STATUSES),
    ("Opportunity", "Last_Invoice_Amount__c"): FieldDetail("Last Invoice Amount", precision=16, scale=2),
    ("Opportunity", "Last_Invoice_Currency__c"): FieldDetail("Last Invoice Currency", length=3),
    ("Opportunity", "Last_Invoice_Date__c"): FieldDetail("Last Invoice Date"),
    ("Opportunity", "Last_Invoice_Paid_Date__c"): FieldDetail("Last Invoice Paid Date"),
}  # fmt: skip


@dataclass(frozen=True)
class SObject:
    name: str
    # field name -> type: string, boolean, date, datetime, currency, percent, id, picklist
    fields: dict[str, str]
    required: tuple[str, ...]
    # External ID fields; the first is also unique (kept in SandboxRecord.external_id),
    # the others may match several records (upsert answers 300 then).
    external_ids: tuple[str, ...]
    read_only: tuple[str, ...] = SYSTEM_FIELDS

    @property
    def unique_external_id(self) -> str:
        return self.external_ids[0]

    def canonical(self, name: str) -> str | None:
        """Field names are case-insensitive in Salesforce."""
        return next((f for f in self.fields if f.lower() == name.lower()), None)


SOBJECTS = {
    "Account": SObject(
        "Account",
        {
            "Id": "id",
            "Name": "string",
            "BillingCountry": "string",
            "Industry": "string",
            "Website": "string",
            "ERP_Customer_Id__c": "string",
            "CreatedDate": "datetime",
            "LastModifiedDate": "datetime",
            "SystemModstamp": "datetime",
        },
        required=("Name",),
        external_ids=("ERP_Customer_Id__c",),
    ),
    "Opportunity": SObject(
        "Opportunity",
        {
            "Id": "id",
            "Name": "string",
            "AccountId": "id",
            "StageName": "picklist",
            "IsWon": "boolean",
            "IsClosed": "boolean",
            "CloseDate": "date",
            "Amount": "currency",
            "CurrencyIsoCode": "string",
            "Probability": "percent",
            "Type": "string",
            "OwnerId": "id",
            "Region__c": "string",
            "Project_Start_Date__c": "date",
            "PSA_Project_Id__c": "string",
            "External_Id__c": "string",
            "Legacy_Id__c": "string",
            "Last_Invoice_Number__c": "string",
            "Last_Invoice_Status__c": "picklist",
            "Last_Invoice_Amount__c": "currency",
            "Last_Invoice_Currency__c": "string",
            "Last_Invoice_Date__c": "date",
            "Last_Invoice_Paid_Date__c": "date",
            "CreatedDate": "datetime",
            "LastModifiedDate": "datetime",
            "SystemModstamp": "datetime",
        },
        required=("Name", "StageName", "CloseDate"),
        external_ids=("External_Id__c", "Legacy_Id__c"),
        read_only=(*SYSTEM_FIELDS, "IsWon", "IsClosed"),
    ),
}


class SObjectError(ValueError):
    """One Salesforce error: message, errorCode, fields."""

    def __init__(self, message: str, code: str, fields: list[str] | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.code, self.fields, self.status = message, code, fields or [], status

    def body(self) -> list[dict]:
        return [{"message": self.message, "errorCode": self.code, "fields": self.fields}]


def get(name: str) -> SObject:
    sobject = SOBJECTS.get(name)
    if sobject is None:
        raise SObjectError(
            f"The requested resource does not exist: sObject type '{name}' is not supported.", "NOT_FOUND", status=404
        )
    return sobject


def _check_value(sobject: SObject, name: str, value: object) -> object:
    kind = sobject.fields[name]
    if value is None:
        return None
    if kind in ("currency", "percent"):
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            return float(Decimal(str(value)))
        except InvalidOperation:
            raise SObjectError(
                f"Cannot deserialize instance of {kind} from VALUE_STRING value {value} "
                "or request may be missing a required field",
                "JSON_PARSER_ERROR",
            )
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise SObjectError(
                f"Cannot deserialize instance of date from VALUE_STRING value {value} "
                "or request may be missing a required field",
                "JSON_PARSER_ERROR",
            )
    detail = FIELD_DETAILS.get((sobject.name, name))
    if kind == "picklist" and detail and detail.picklist and value not in detail.picklist:
        raise SObjectError(
            f"bad value for restricted picklist field: {value}", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", [name]
        )
    if kind == "boolean" and not isinstance(value, bool):
        raise SObjectError(
            f"Cannot deserialize instance of boolean from VALUE_STRING value {value}", "JSON_PARSER_ERROR"
        )
    if kind in ("string", "id", "picklist") and not isinstance(value, str | int | float):
        raise SObjectError(
            f"Cannot deserialize instance of string from START_OBJECT value {value}", "JSON_PARSER_ERROR"
        )
    if kind == "string" and detail and detail.length and len(str(value)) > detail.length:
        # Since API 15.0 a value too long fails with STRING_TOO_LONG rather than being cut
        # (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_header_allowfieldtruncation.htm).
        raise SObjectError(
            f"{detail.label}: data value too large: {value} (max length={detail.length})", "STRING_TOO_LONG", [name]
        )
    return str(value) if kind in ("string", "id") else value


def clean(sobject: SObject, body: object, *, creating: bool, allow: tuple[str, ...] = ()) -> dict:
    """The body as stored values, or SObjectError with Salesforce's code and wording."""
    if not isinstance(body, dict):
        raise SObjectError("The request body must be a JSON object.", "JSON_PARSER_ERROR")
    named = {}
    for name, value in body.items():
        if name == "attributes":
            continue
        canonical = sobject.canonical(name)
        if canonical is None:
            raise SObjectError(f"No such column '{name}' on sobject of type {sobject.name}", "INVALID_FIELD", [name])
        named[canonical] = value
    body = named
    locked = [n for n in body if n in sobject.read_only and n not in allow]
    if locked:
        raise SObjectError(
            f"Unable to create/update fields: {', '.join(locked)}. Please check the security settings of this "
            "field and verify that it is read/write for your profile or permission set.",
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            locked,
        )
    values = {name: _check_value(sobject, name, value) for name, value in body.items()}
    missing = [n for n in sobject.required if (values.get(n) in (None, "")) and (creating or n in values)]
    if missing:
        raise SObjectError(f"Required fields are missing: [{', '.join(missing)}]", "REQUIRED_FIELD_MISSING", missing)
    return values


def derive(sobject: SObject, values: dict) -> dict:
    """Formula-like fields Salesforce computes itself."""
    if sobject.name == "Opportunity" and "StageName" in values:
        values["IsWon"] = values["StageName"] == "Closed Won"
        values["IsClosed"] = values["StageName"].startswith("Closed")
    return values
