"""Invoice status back, CRM side, end to end through a real worker against the sandboxes: an
invoice issued then paid in NetSuite shows on the project's Salesforce opportunity field by
field (and still as a milestone in Kantata), a re-read invoice writes nothing again, an invoice
whose project has no opportunity writes nothing to the CRM, one of a project the firm numbers
itself (PRJ-…) reaches the opportunity it is linked to in the crosswalk, and a field the CRM
was made to own is held back as a conflict."""

from integrations.crosswalk.models import CrosswalkLink, OwnershipRule
from integrations.deliveries.models import Delivery
from integrations.runs.models import Run, RunException
from integrations.sandboxes.salesforce import ids
from tests.gallery.conftest import connector
from tests.gallery.test_master_data_and_money_worker import run_flow
from tests.reliability.harness import WORKER_TEST_MARKS

pytestmark = WORKER_TEST_MARKS

FLOW = "invoice-status-back"
INVOICE_FIELDS = ("Last_Invoice_Number__c", "Last_Invoice_Status__c", "Last_Invoice_Amount__c",
                  "Last_Invoice_Currency__c", "Last_Invoice_Date__c", "Last_Invoice_Paid_Date__c")  # fmt: skip


def crm_writes() -> list[Delivery]:
    return list(Delivery.objects.filter(connection__name="salesforce").order_by("pk"))


def invoice_fields(opportunity: dict) -> tuple:
    return tuple(opportunity[name] for name in INVOICE_FIELDS)


def won_project(salesforce, kantata, netsuite, name: str) -> tuple[str, str, str, str]:
    """What lead to project leaves behind: a won opportunity whose id is the canonical project
    id of a Kantata workspace and a NetSuite job. (opportunity, workspace, customer, job)"""
    account = salesforce.query("Account").records[0]["Id"]
    opportunity = salesforce.create("Opportunity", {
        "Name": name, "AccountId": account, "StageName": "Closed Won", "CloseDate": "2026-03-01",
        "Amount": 48000, "CurrencyIsoCode": "EUR"}).remote_id  # fmt: skip
    workspace = kantata.upsert("workspaces", "opportunity", opportunity, {"title": name, "creator_role": "maven"})
    customer = netsuite.query("customer").records[0]["id"]
    job = netsuite.upsert("job", "externalId", opportunity, {"companyName": name, "parent": {"id": customer},
                                                               "subsidiary": {"id": "1"}}).remote_id  # fmt: skip
    return opportunity, workspace.remote_id, customer, job


def test_an_invoice_issued_then_paid_in_netsuite_shows_on_the_opportunity_in_salesforce(sandboxes, workers):
    sandboxes()
    salesforce, kantata, netsuite = connector("salesforce"), connector("kantata"), connector("netsuite")
    opportunity, workspace, customer, job = won_project(salesforce, kantata, netsuite, "Globex data platform")
    # A project whose id has an opportunity's form but no such opportunity exists (deleted, or
    # another org's): its invoice gets its milestone, and no CRM write.
    orphan = ids.make_id("Opportunity", 99_999)
    kantata.upsert("workspaces", "opportunity", orphan, {"title": "Orphan", "creator_role": "maven"})
    orphan_job = netsuite.upsert("job", "externalId", orphan, {"companyName": "Orphan", "parent": {"id": customer},
                                                                 "subsidiary": {"id": "1"}}).remote_id  # fmt: skip
    netsuite.create("invoice", {"entity": {"id": customer}, "job": {"id": orphan_job}, "tranId": "INV-9100",
                                "tranDate": "2026-04-02", "dueDate": "2026-05-02", "total": 800.0,
                                "status": {"id": "A"}})  # fmt: skip
    invoice = netsuite.create("invoice", {"entity": {"id": customer}, "job": {"id": job}, "tranId": "INV-9001",
                                          "tranDate": "2026-04-01", "dueDate": "2026-05-01", "total": 12500.5,
                                          "currency": {"id": "2"}, "status": {"id": "A"}}).remote_id  # fmt: skip
    # Projects the firm numbers itself: PRJ-2026-9001 is linked to its opportunity in the
    # crosswalk (its invoice updates that opportunity), PRJ-2026-9002 has no link (no CRM write).
    linked = salesforce.create("Opportunity", {
        "Name": "Initech rollout", "AccountId": salesforce.query("Account").records[0]["Id"],
        "StageName": "Closed Won", "CloseDate": "2026-02-01", "Amount": 9000}).remote_id  # fmt: skip
    CrosswalkLink.objects.create(object="project", canonical_id="PRJ-2026-9001", system="salesforce",
                                 external_id=linked)  # fmt: skip
    for project, tranid in (("PRJ-2026-9001", "INV-9200"), ("PRJ-2026-9002", "INV-9300")):
        prj_job = netsuite.upsert("job", "externalId", project, {"companyName": project, "parent": {"id": customer},
                                                                  "subsidiary": {"id": "1"}}).remote_id  # fmt: skip
        netsuite.create("invoice", {"entity": {"id": customer}, "job": {"id": prj_job}, "tranId": tranid,
                                    "tranDate": "2026-04-03", "dueDate": "2026-05-03", "total": 640.0,
                                    "currency": {"id": "1"}, "status": {"id": "A"}})  # fmt: skip
    before = salesforce.read("Opportunity", opportunity)
    assert invoice_fields(before) == (None,) * 6
    workers()

    flow = run_flow(FLOW)
    assert not RunException.objects.filter(flow=flow).exists()
    assert not Run.objects.filter(flow_version__flow=flow).exclude(status="succeeded").exists()
    issued = salesforce.read("Opportunity", opportunity)
    assert invoice_fields(issued) == ("INV-9001", "Issued", 12500.5, "EUR", "2026-04-01", None)
    # the rest of the opportunity is as it was
    assert {k: issued[k] for k in ("Name", "StageName", "Amount", "CurrencyIsoCode", "CloseDate")} == {
        "Name": "Globex data platform", "StageName": "Closed Won", "Amount": 48000.0, "CurrencyIsoCode": "EUR",
        "CloseDate": "2026-03-01"}  # fmt: skip
    # the linked PRJ project's opportunity has its invoice; the rest of it is as it was
    prj = salesforce.read("Opportunity", linked)
    assert invoice_fields(prj) == ("INV-9200", "Issued", 640.0, "USD", "2026-04-03", None)
    assert (prj["Name"], prj["Amount"], prj["StageName"]) == ("Initech rollout", 9000.0, "Closed Won")
    # two CRM writes in the whole poll: 300 firm invoices have PRJ-… project ids without a
    # Salesforce link (as has PRJ-2026-9002), the orphan names no opportunity that exists
    writes = crm_writes()
    assert sorted((w.object, w.action, w.external_id, str(w.state).lower()) for w in writes) == sorted(
        ("Opportunity", "update", opp, "succeeded") for opp in (opportunity, linked)
    )
    assert kantata.find_by_external_ref("stories", "task", "invoice:INV-9100") is not None  # the orphan's milestone
    milestone = kantata.find_by_external_ref("stories", "task", "invoice:INV-9001")
    story = kantata.read("stories", milestone.remote_id)
    assert (story["workspace_id"], story["title"], story["state"]) == (workspace, "Invoice INV-9001: issued", "started")

    # Read again (a memo changed, the status did not): a run, and nothing written to Salesforce.
    netsuite.update("invoice", invoice, {"memo": "reminder sent"})
    run_flow(FLOW, 1)
    assert len(crm_writes()) == 2
    assert salesforce.read("Opportunity", opportunity)["LastModifiedDate"] == issued["LastModifiedDate"]

    # Paid in full: written once more, with the date it was paid.
    netsuite.update("invoice", invoice, {"status": {"id": "B"}})
    run_flow(FLOW, 1)
    paid_on = netsuite.read("invoice", invoice)["lastModifiedDate"][:10]
    paid = salesforce.read("Opportunity", opportunity)
    assert invoice_fields(paid) == ("INV-9001", "Paid", 12500.5, "EUR", "2026-04-01", paid_on)
    assert len(crm_writes()) == 3
    story = kantata.read("stories", milestone.remote_id)
    assert (story["workspace_id"], story["title"], story["state"]) == (workspace, "Invoice INV-9001: paid", "completed")

    # A second poll with nothing new: no run, no write.
    run_flow(FLOW, 0)
    assert len(crm_writes()) == 3
    assert salesforce.read("Opportunity", opportunity)["LastModifiedDate"] == paid["LastModifiedDate"]
    assert not RunException.objects.filter(flow=flow).exists()

    # The CRM made owner of the invoice status: the next invoice's status is held back (a
    # conflict a person resolves), its other fields are written.
    OwnershipRule.objects.create(object="invoice_event", field="event_type", owner="crm")
    netsuite.create("invoice", {"entity": {"id": customer}, "job": {"id": job}, "tranId": "INV-9002",
                                "tranDate": "2026-05-01", "dueDate": "2026-06-01", "total": 3000.0,
                                "currency": {"id": "2"}, "status": {"id": "A"}})  # fmt: skip
    run_flow(FLOW, 1)
    held = salesforce.read("Opportunity", opportunity)
    assert invoice_fields(held) == ("INV-9002", "Paid", 3000.0, "EUR", "2026-05-01", None)
    conflict = RunException.objects.get(flow=flow)
    assert (conflict.classification, conflict.step_id) == ("conflict", "crm")
    assert "event_type" in conflict.message and "Issued" in conflict.message
