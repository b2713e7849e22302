"""The firm's invoice fields on the Salesforce sandbox's Opportunity, over real HTTP: sObject
Describe reports them as custom with their types, and a bad value is refused the way
Salesforce refuses it (errorCode, message, the field named), leaving the record as it was.
https://developer.salesforce.com/docs/platform/api-rest/guide/dome-sobject-describe.md"""

import pytest

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.salesforce import VENDOR
from integrations.sandboxes.salesforce.schema import INVOICE_STATUSES
from integrations.sandboxes.salesforce.seed import seed
from tests.connectors.contract import use_sandboxes
from tests.connectors.test_salesforce import connector_for

pytestmark = pytest.mark.django_db(transaction=True)

INVOICE_FIELDS = {
    "Last_Invoice_Number__c": ("string", "Last Invoice Number"),
    "Last_Invoice_Status__c": ("picklist", "Last Invoice Status"),
    "Last_Invoice_Amount__c": ("currency", "Last Invoice Amount"),
    "Last_Invoice_Currency__c": ("string", "Last Invoice Currency"),
    "Last_Invoice_Date__c": ("date", "Last Invoice Date"),
    "Last_Invoice_Paid_Date__c": ("date", "Last Invoice Paid Date"),
}


@pytest.fixture
def salesforce(live_server, settings):
    seed("test")
    return connector_for(use_sandboxes(live_server, settings))


def test_describe_reports_the_invoice_fields_as_custom_with_their_types(salesforce):
    answer = salesforce.request("GET", "sobjects/Opportunity/describe")
    described = answer.json()
    assert (answer.status_code, described["name"], described["keyPrefix"], described["custom"]) == (
        200, "Opportunity", "006", False)  # fmt: skip
    fields = {f["name"]: f for f in described["fields"]}
    for name, (kind, label) in INVOICE_FIELDS.items():
        field = fields[name]
        assert (field["type"], field["label"], field["custom"]) == (kind, label, True), name
        assert field["updateable"] and field["createable"] and field["nillable"], name
    assert fields["Last_Invoice_Number__c"]["length"] == 40
    assert fields["Last_Invoice_Currency__c"]["length"] == 3
    assert (fields["Last_Invoice_Amount__c"]["precision"], fields["Last_Invoice_Amount__c"]["scale"]) == (16, 2)
    status = fields["Last_Invoice_Status__c"]
    assert status["restrictedPicklist"] is True
    assert [v["value"] for v in status["picklistValues"]] == list(INVOICE_STATUSES)
    # standard fields are not custom; every __c field is
    assert not any(fields[n]["custom"] for n in ("Id", "Name", "Amount", "StageName", "CloseDate"))
    assert all(f["custom"] == f["name"].endswith("__c") for f in described["fields"])
    assert (fields["AccountId"]["type"], fields["AccountId"]["referenceTo"]) == ("reference", ["Account"])
    assert fields["Id"]["updateable"] is False and fields["External_Id__c"]["externalId"] is True

    account = salesforce.request("GET", "sobjects/Account/describe").json()
    assert {f["name"]: f["custom"] for f in account["fields"]}["ERP_Customer_Id__c"] is True
    missing = salesforce.request("GET", "sobjects/Invoice__c/describe", raise_for_status=False)
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"


def test_invoice_fields_are_written_read_and_queried(salesforce):
    opportunity = store.records(VENDOR, "Opportunity").first().record_id
    salesforce.update("Opportunity", opportunity, {
        "Last_Invoice_Number__c": "INV-9001", "Last_Invoice_Status__c": "Paid", "Last_Invoice_Amount__c": 12500.5,
        "Last_Invoice_Currency__c": "EUR", "Last_Invoice_Date__c": "2026-04-01",
        "Last_Invoice_Paid_Date__c": "2026-04-20"})  # fmt: skip
    record = salesforce.read("Opportunity", opportunity)
    assert [record[n] for n in INVOICE_FIELDS] == ["INV-9001", "Paid", 12500.5, "EUR", "2026-04-01", "2026-04-20"]
    rows = salesforce.soql("SELECT Id, Last_Invoice_Number__c FROM Opportunity WHERE Last_Invoice_Status__c = 'Paid'")
    assert [(r["Id"], r["Last_Invoice_Number__c"]) for r in rows] == [(opportunity, "INV-9001")]


@pytest.mark.parametrize(
    ("body", "status", "code", "message", "fields"),
    [
        # a restricted picklist takes only its defined values (API Field Properties)
        ({"Last_Invoice_Status__c": "Settled"}, 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
         "bad value for restricted picklist field: Settled", ["Last_Invoice_Status__c"]),
        # since API 15.0 a value too long fails instead of being cut (AllowFieldTruncationHeader)
        ({"Last_Invoice_Number__c": "INV-" + "9" * 37}, 400, "STRING_TOO_LONG",
         f"Last Invoice Number: data value too large: INV-{'9' * 37} (max length=40)", ["Last_Invoice_Number__c"]),
        ({"Last_Invoice_Currency__c": "EURO"}, 400, "STRING_TOO_LONG",
         "Last Invoice Currency: data value too large: EURO (max length=3)", ["Last_Invoice_Currency__c"]),
        ({"Last_Invoice_Amount__c": "a lot"}, 400, "JSON_PARSER_ERROR",
         "Cannot deserialize instance of currency from VALUE_STRING value a lot", None),
        ({"Last_Invoice_Paid_Date__c": "20/04/2026"}, 400, "JSON_PARSER_ERROR",
         "Cannot deserialize instance of date from VALUE_STRING value 20/04/2026", None),
        ({"Last_Invoice_Due__c": "2026-05-01"}, 400, "INVALID_FIELD",
         "No such column 'Last_Invoice_Due__c' on sobject of type Opportunity", ["Last_Invoice_Due__c"]),
    ],
)  # fmt: skip
def test_a_bad_invoice_value_is_refused_as_salesforce_refuses_it(salesforce, body, status, code, message, fields):
    opportunity = store.records(VENDOR, "Opportunity").first().record_id
    before = salesforce.read("Opportunity", opportunity)
    answer = salesforce.request("PATCH", f"sobjects/Opportunity/{opportunity}",
                                json={"Last_Invoice_Number__c": "INV-1", **body}, raise_for_status=False)  # fmt: skip
    assert answer.status_code == status
    [error] = answer.json()
    assert error["errorCode"] == code and error["message"].startswith(message), error
    if fields is not None:
        assert error["fields"] == fields
    assert salesforce.read("Opportunity", opportunity) == before  # nothing written, not even the good field
