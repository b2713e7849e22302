"""The sObject Describe answer (GET /services/data/vXX.X/sobjects/<SObject>/describe/): the
object's metadata and one entry per field, built from the sandbox's schema. Pure.

Salesforce documents the resource and the shape of its answer at
https://developer.salesforce.com/docs/platform/api-rest/guide/dome-sobject-describe.md
(DescribeSObjectResult and its Field entries:
https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_describesobjects_describesobjectresult.htm):
`custom` says whether the object or field is custom (custom field names end in `__c`),
`type` is the field type (id, reference, string, picklist, boolean, date, datetime, currency,
percent), `length` a Text field's maximum characters, `precision`/`scale` a number's digits,
`externalId`/`idLookup` whether an upsert may match on it, `restrictedPicklist` and
`picklistValues` the values a picklist accepts. Field properties:
https://developer.salesforce.com/docs/platform/object-reference/guide/access-for-fields.html
The sandbox answers the properties a client reads; the rest of Salesforce's long answer
(layouts, child relationships, record types…) is left out."""

from integrations.sandboxes.salesforce import DATA_PREFIX, ids
from integrations.sandboxes.salesforce.schema import FIELD_DETAILS, SObject

LABELS = {
    "Account": {"Id": "Account ID", "Name": "Account Name", "BillingCountry": "Billing Country",
                "Industry": "Industry", "Website": "Website", "ERP_Customer_Id__c": "ERP Customer Id"},
    "Opportunity": {"Id": "Opportunity ID", "Name": "Name", "AccountId": "Account ID", "IsWon": "Won",
                    "IsClosed": "Closed", "CloseDate": "Close Date", "Amount": "Amount",
                    "CurrencyIsoCode": "Opportunity Currency", "Probability": "Probability (%)",
                    "Type": "Opportunity Type", "OwnerId": "Owner ID", "Region__c": "Region",
                    "Project_Start_Date__c": "Project Start Date", "PSA_Project_Id__c": "PSA Project Id",
                    "External_Id__c": "External Id", "Legacy_Id__c": "Legacy Id"},
}  # fmt: skip
COMMON_LABELS = {"CreatedDate": "Created Date", "LastModifiedDate": "Last Modified Date",
                 "SystemModstamp": "System Modstamp"}  # fmt: skip
REFERENCES = {"AccountId": ("Account", "Account"), "OwnerId": ("User", "Owner")}
SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "string": "xsd:string", "picklist": "xsd:string",
              "boolean": "xsd:boolean", "date": "xsd:date", "datetime": "xsd:dateTime", "currency": "xsd:double",
              "percent": "xsd:double"}  # fmt: skip
PLURALS = {"Opportunity": "Opportunities", "Account": "Accounts"}


def label(sobject: SObject, name: str) -> str:
    detail = FIELD_DETAILS.get((sobject.name, name))
    if detail:
        return detail.label
    return LABELS.get(sobject.name, {}).get(name) or COMMON_LABELS.get(name) or name.removesuffix("__c")


def field(sobject: SObject, name: str) -> dict:
    kind = sobject.fields[name]
    detail = FIELD_DETAILS.get((sobject.name, name))
    if kind == "id" and name != "Id":
        kind = "reference"
    reference = REFERENCES.get(name) if kind == "reference" else None
    text = kind in ("string", "picklist")
    length = (detail.length if detail and detail.length else 255) if text else (18 if kind in ("id", "reference")
                                                                                 else 0)  # fmt: skip
    writable = name not in sobject.read_only
    external = name in sobject.external_ids
    numeric = kind in ("currency", "percent")
    return {
        "name": name,
        "label": label(sobject, name),
        "type": kind,
        "soapType": SOAP_TYPES[kind],
        "custom": name.endswith("__c"),
        "length": length,
        "byteLength": length * 3,
        "precision": (detail.precision if detail and detail.precision else 18) if numeric else 0,
        "scale": (detail.scale if detail and detail.scale is not None else 2) if numeric else 0,
        "digits": 0,
        "nillable": writable and name not in sobject.required and kind != "boolean",
        "createable": writable,
        "updateable": writable,
        "calculated": False,
        "defaultedOnCreate": name in sobject.read_only or kind == "boolean",
        "externalId": external,
        "unique": external and name == sobject.unique_external_id,
        "idLookup": name == "Id" or external,
        "filterable": True,
        "sortable": True,
        "nameField": name == "Name",
        "referenceTo": [reference[0]] if reference else [],
        "relationshipName": reference[1] if reference else None,
        "restrictedPicklist": bool(detail and detail.picklist),
        "picklistValues": [{"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
                           for v in (detail.picklist if detail else ())],
    }  # fmt: skip


def describe(sobject: SObject) -> dict:
    base = f"{DATA_PREFIX}/sobjects/{sobject.name}"
    return {
        "name": sobject.name,
        "label": sobject.name,
        "labelPlural": PLURALS.get(sobject.name, sobject.name + "s"),
        "keyPrefix": ids.KEY_PREFIXES.get(sobject.name),
        "custom": sobject.name.endswith("__c"),
        "customSetting": False,
        "createable": True,
        "updateable": True,
        "deletable": True,
        "queryable": True,
        "retrieveable": True,
        "searchable": True,
        "fields": [field(sobject, name) for name in sobject.fields],
        "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
    }
