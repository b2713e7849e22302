"""The six reference flows as definitions: each one is valid, goes through a canonical object,
and does what its card says on a sample record (test-run: nothing is written)."""

import pytest

from integrations.flows import engine_api
from integrations.flows.services import validate
from integrations.gallery.catalog import BY_KEY, TEMPLATES, template

OPPORTUNITY = {
    "Id": "006A000000AcmeQ", "Name": "Acme - Data Platform", "AccountId": "001A00000Acme", "Amount": 120000,
    "CloseDate": "2026-03-01", "CurrencyIsoCode": "USD", "Region__c": "EMEA", "SystemModstamp": "2026-03-01T10:00:00Z",
}  # fmt: skip
ACCOUNT = {"Id": "001A00000Acme", "Name": "Acme Corp", "ERP_Customer_Id__c": None}
LINKS = {"worker": "W-21001", "project": "PRJ-2025-0001"}


def dry_run(key, record, reads=None):
    effects = engine_api.dry_run_effects(
        lookup=(lambda step, request: reads(request)) if reads else None, crosswalk=lambda o, s, e: LINKS.get(o)
    )
    outcome = engine_api.run(engine_api.compile_flow(BY_KEY[key].definition), record, effects)
    return outcome, {(d.connection, d.object): d for d in effects.deliveries}


def salesforce(request):
    return {"Opportunity": OPPORTUNITY, "Account": ACCOUNT}[request["object"]]


def test_six_templates_each_valid_and_through_a_canonical_object():
    six = {"lead-to-project", "consultant-master-sync", "time-to-billing", "expenses-to-erp", "invoice-status-back",
           "lead-to-project-regional"}  # fmt: skip
    assert six <= set(BY_KEY), "a reference flow is missing from the gallery"
    for t in TEMPLATES:
        assert validate(t.definition) == [], t.key
        assert t.canonical_objects, f"{t.key} maps no canonical object"
        assert t.fresh_definition() == t.definition and t.fresh_definition() is not t.definition
    with pytest.raises(LookupError):
        template("no-such-template")


def test_lead_to_project_reads_the_opportunity_only_when_the_event_carries_changed_fields_only():
    whole, _ = dry_run("lead-to-project", OPPORTUNITY, salesforce)
    partial, writes = dry_run("lead-to-project", {"Id": OPPORTUNITY["Id"], "StageName": "Closed Won"}, salesforce)
    assert [s.status for s in whole.steps if s.step_id == "complete"] == ["skipped"]
    assert [s.status for s in partial.steps if s.step_id == "complete"] == ["succeeded"]
    assert partial.status == "completed"
    workspace = writes[("kantata", "workspaces")]
    assert (workspace.external_id_field, workspace.external_id) == ("opportunity", OPPORTUNITY["Id"])
    assert workspace.payload["title"] == "Acme - Data Platform" and workspace.payload["price"] == 120000
    job = writes[("netsuite", "job")]
    assert job.payload["parent"] == {"externalId": "SF-001A00000Acme"} and job.payload["subsidiary"] == {"id": "1"}
    assert writes[("netsuite", "customer")].payload == {"companyName": "Acme Corp", "subsidiary": {"id": "1"}}
    assert writes[("salesforce", "Opportunity")].action == "update"


def test_regional_variant_books_emea_deals_in_the_emea_subsidiary():
    _, emea = dry_run("lead-to-project-regional", OPPORTUNITY, salesforce)
    _, na = dry_run("lead-to-project-regional", {**OPPORTUNITY, "Region__c": "North America"}, salesforce)
    assert emea[("netsuite", "job")].payload["subsidiary"] == {"id": "2"}
    assert na[("netsuite", "job")].payload["subsidiary"] == {"id": "1"}


def test_an_existing_erp_customer_is_not_created_again():
    known = {**ACCOUNT, "ERP_Customer_Id__c": "C-10003"}
    reads = {"Opportunity": OPPORTUNITY, "Account": known}
    _, writes = dry_run("lead-to-project", OPPORTUNITY, lambda request: reads[request["object"]])
    assert ("netsuite", "customer") not in writes and ("salesforce", "Account") not in writes
    assert writes[("netsuite", "job")].payload["parent"] == {"externalId": "C-10003"}


def test_time_entry_policy_rejects_with_each_reason():
    entry = {"id": "30001", "workspace_id": "2001", "user_id": "1001", "date_performed": "2025-03-04",
             "time_in_minutes": 900, "billable": True, "rate_in_cents": 0, "approved": False}  # fmt: skip
    outcome, writes = dry_run("time-to-billing", entry)
    assert outcome.status == "failed" and not writes
    messages = {d["field"]: d["message"] for d in outcome.error.details}
    assert messages == {"status": "time entry is not approved yet", "total_hours": "more than 12 hours on one day",
                        "bill_rate": "no bill rate for this entry"}  # fmt: skip


def test_terminated_worker_is_no_longer_a_resource_in_the_erp():
    row = {"Employee_ID": "21001", "Legal_Name": "Priya Raman", "Email_-_Work": "Priya.Raman@firm.example",
           "Business_Title": "Consultant", "Location": "London", "Hire_Date": "2024-02-01",
           "Worker_Status": "Terminated", "Last_Updated": "2025-03-31T09:00:00"}  # fmt: skip
    outcome, writes = dry_run("consultant-master-sync", row)
    employee = writes[("netsuite", "employee")]
    assert outcome.status == "completed" and employee.external_id == "W-21001"
    assert employee.payload == {"firstName": "Priya", "lastName": "Raman", "email": "priya.raman@firm.example",
                                "title": "Consultant", "entityId": "21001", "hireDate": "2024-02-01",
                                "subsidiary": {"id": "2"}, "isJobResource": False}  # fmt: skip


def test_expense_policy_needs_a_receipt_above_the_threshold_and_a_mapped_category():
    expense = {"id": "40001", "workspace_id": "2001", "user_id": "1001", "date": "2025-05-07", "category": "Travel",
               "amount_in_cents": 90000, "currency": "USD", "billable": True, "notes": ""}  # fmt: skip
    no_receipt, _ = dry_run("expenses-to-erp", expense)
    assert no_receipt.error.details[0]["message"] == "a receipt is required above 500"
    unmapped, _ = dry_run("expenses-to-erp", {**expense, "category": "Gifts", "amount_in_cents": 100})
    assert "not in value map 'expense_categories'" in unmapped.error.message
