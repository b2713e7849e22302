"""Invoice status back to HubSpot end to end through a real worker against the sandboxes: an
invoice issued then paid in NetSuite shows on the project's HubSpot deal property by property
(and as a milestone in Kantata); read again it writes nothing; an invoice whose project names
no deal, or a deal that does not exist, writes nothing to HubSpot."""

from integrations.deliveries.models import Delivery
from integrations.flows.models import Flow
from integrations.flows.services import set_status
from integrations.runs.models import Run, RunException
from tests.gallery.conftest import connector
from tests.gallery.test_lead_to_project_hubspot_worker import hubspot_connection, new_deal
from tests.gallery.test_master_data_and_money_worker import run_flow
from tests.reliability.harness import WORKER_TEST_MARKS

pytestmark = WORKER_TEST_MARKS

FLOW = "invoice-status-back-hubspot"
PROPERTIES = ("last_invoice_number", "last_invoice_status", "last_invoice_amount", "last_invoice_currency",
              "last_invoice_date", "last_invoice_paid_date")  # fmt: skip


def crm_writes() -> list[Delivery]:
    return list(Delivery.objects.filter(connection__name="hubspot").order_by("pk"))


def last_invoice(hubspot, deal: str) -> tuple:
    properties = hubspot.read("deals", deal)["properties"]
    return tuple(properties.get(name) or None for name in PROPERTIES)


def project(kantata, netsuite, customer: str, project_id: str, name: str) -> tuple[str, str]:
    """What lead to project from HubSpot leaves behind: a workspace and a job whose external
    references are the deal id. (workspace, job)"""
    workspace = kantata.upsert("workspaces", "opportunity", project_id, {"title": name, "creator_role": "maven"})
    job = netsuite.upsert("job", "externalId", project_id, {"companyName": name, "parent": {"id": customer},
                                                             "subsidiary": {"id": "1"}})  # fmt: skip
    return workspace.remote_id, job.remote_id


def test_an_invoice_issued_then_paid_in_netsuite_shows_on_the_hubspot_deal(sandboxes, workers, settings):
    hubspot_connection(settings)
    sandboxes()
    set_status(Flow.objects.get(key=FLOW), "system:test", "active")  # the demo publishes it paused
    hubspot, kantata, netsuite = connector("hubspot"), connector("kantata"), connector("netsuite")
    _, deal = new_deal(hubspot, stage="closedwon")
    customer = netsuite.query("customer").records[0]["id"]
    workspace, job = project(kantata, netsuite, customer, deal, "Globex data platform")
    # A project with a deal's form of id but no such deal (deleted): its milestone, no CRM write.
    _, missing_job = project(kantata, netsuite, customer, "18299999999", "Gone")
    netsuite.create("invoice", {"entity": {"id": customer}, "job": {"id": missing_job}, "tranId": "INV-9300",
                                "tranDate": "2026-04-02", "dueDate": "2026-05-02", "total": 800.0,
                                "status": {"id": "A"}})  # fmt: skip
    invoice = netsuite.create("invoice", {"entity": {"id": customer}, "job": {"id": job}, "tranId": "INV-9301",
                                          "tranDate": "2026-04-01", "dueDate": "2026-05-01", "total": 12500.5,
                                          "currency": {"id": "2"}, "status": {"id": "A"}}).remote_id  # fmt: skip
    assert last_invoice(hubspot, deal) == (None,) * 6
    workers()

    flow = run_flow(FLOW)
    assert not RunException.objects.filter(flow=flow).exists()
    assert not Run.objects.filter(flow_version__flow=flow).exclude(status="succeeded").exists()
    assert last_invoice(hubspot, deal) == ("INV-9301", "Issued", "12500.5", "EUR", "2026-04-01", None)
    issued = hubspot.read("deals", deal)["properties"]
    assert (issued["dealname"], issued["amount"]) == ("Acme - Data Platform", "120000")  # the rest as it was
    # one CRM write in the whole poll (the firm's invoices have PRJ-… project ids; the missing deal none)
    writes = crm_writes()
    assert [(w.object, w.action, w.external_id, str(w.state).lower()) for w in writes] == [
        ("deals", "update", deal, "succeeded")]  # fmt: skip
    assert kantata.find_by_external_ref("stories", "task", "invoice:INV-9300") is not None
    milestone = kantata.find_by_external_ref("stories", "task", "invoice:INV-9301")
    story = kantata.read("stories", milestone.remote_id)
    assert (story["workspace_id"], story["title"], story["state"]) == (workspace, "Invoice INV-9301: issued", "started")

    # Read again (a memo changed, the status did not): a run, and nothing written to HubSpot.
    netsuite.update("invoice", invoice, {"memo": "reminder sent"})
    run_flow(FLOW, 1)
    assert len(crm_writes()) == 1
    assert hubspot.read("deals", deal)["properties"]["hs_lastmodifieddate"] == issued["hs_lastmodifieddate"]

    # Paid in full: written once more, with the date it was paid.
    netsuite.update("invoice", invoice, {"status": {"id": "B"}})
    run_flow(FLOW, 1)
    paid_on = netsuite.read("invoice", invoice)["lastModifiedDate"][:10]
    assert last_invoice(hubspot, deal) == ("INV-9301", "Paid", "12500.5", "EUR", "2026-04-01", paid_on)
    assert len(crm_writes()) == 2
    story = kantata.read("stories", milestone.remote_id)
    assert (story["state"], story["title"]) == ("completed", "Invoice INV-9301: paid")
    assert not RunException.objects.filter(flow=flow).exists()
