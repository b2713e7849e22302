"""Lead to project from HubSpot end to end through a real worker: a deal moved to closed won in
the HubSpot sandbox sends its signed `deal.propertyChange` webhook to /hooks/hubspot/, and the
run reads the deal and its company, then makes a Kantata workspace, a NetSuite customer and
job, resource demand, and writes the PSA and ERP ids to the deal and the new ERP customer id to
the company — checked field by field, with the crosswalk links. Moved to closed won again, it
writes nothing twice; a move to another stage writes nothing at all."""

from integrations.connections.demo import demo_values
from integrations.connections.services import create_connection
from integrations.crosswalk.models import CrosswalkLink
from integrations.deliveries.models import Delivery
from integrations.flows.models import Flow
from integrations.flows.services import set_status
from integrations.runs.models import Run
from tests.gallery.conftest import connector, settle
from tests.gallery.test_lead_to_project_worker import ended
from tests.reliability.harness import WORKER_TEST_MARKS

pytestmark = WORKER_TEST_MARKS
KEY = "lead-to-project-hubspot"


def hubspot_connection(settings):
    """The demo's HubSpot connection; its sandbox sends deal webhooks to /hooks/hubspot/ and
    waits for the answer, so an update returns once the event is stored."""
    settings.SWITCHBOARD_SANDBOX_WEBHOOKS_SYNC = True
    create_connection("system:test", name="hubspot", kind="hubspot", **demo_values("hubspot"))


def new_deal(hubspot, stage="contractsent"):
    company = hubspot.create("companies", {"name": "Acme Analytics", "domain": "acme.example"}).remote_id
    deal = hubspot.create("deals", {
        "properties": {"dealname": "Acme - Data Platform", "dealstage": stage, "pipeline": "default",
                       "amount": "120000", "closedate": "2026-03-16T00:00:00Z", "deal_currency_code": "EUR",
                       "region": "North America"},
        "associations": [{"to": {"id": company}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                            "associationTypeId": 5}]}],
    }).remote_id  # fmt: skip
    return company, deal


def runs_of_the_flow():
    return list(Run.objects.filter(flow_version__flow__key=KEY).order_by("id"))


def test_a_deal_moved_to_closed_won_becomes_a_project_in_the_psa_and_the_erp(sandboxes, workers, settings):
    hubspot_connection(settings)
    sandboxes()  # publishes the gallery's flows, this one too now that a hubspot connection exists
    set_status(Flow.objects.get(key=KEY), "system:test", "active")  # the demo publishes it paused
    hubspot = connector("hubspot")
    company, deal = new_deal(hubspot)
    workers()
    hubspot.update("deals", deal, {"dealstage": "closedwon"})
    runs = runs_of_the_flow()
    assert len(runs) == 1  # the deal's creation is another subscription: no run
    settle(ended(runs))
    run = Run.objects.get(pk=runs[0].pk)
    assert run.status == "succeeded", run.error
    assert run.business_key == deal and run.event.type == "deal.propertyChange"

    kantata, netsuite = connector("kantata"), connector("netsuite")
    workspace_id = kantata.find_by_external_ref("workspaces", "opportunity", deal).remote_id
    workspace = kantata.read("workspaces", workspace_id)
    assert (workspace["title"], workspace["creator_role"], workspace["currency"], workspace["start_date"]) == (
        "Acme - Data Platform", "maven", "EUR", "2026-03-16")  # fmt: skip
    assert workspace["price_in_cents"] == 12_000_000 and workspace["budgeted"] is True
    assert workspace["description"] == f"Won in HubSpot (deal {deal})"
    customer_id = netsuite.find_by_external_ref("customer", "externalId", f"HS-{company}").remote_id
    customer = netsuite.read("customer", customer_id)
    assert customer["companyName"] == "Acme Analytics" and customer["subsidiary"]["id"] == "1"
    job_id = netsuite.find_by_external_ref("job", "externalId", deal).remote_id
    job = netsuite.read("job", job_id)
    assert (job["companyName"], job["startDate"], job["allowTime"], job["allowExpenses"]) == (
        "Acme - Data Platform", "2026-03-16", True, True)  # fmt: skip
    assert job["parent"] == {"externalId": f"HS-{company}"} and job["subsidiary"]["id"] == "1", job
    demand = kantata.read("stories", kantata.find_by_external_ref("stories", "task", f"demand:{deal}").remote_id)
    assert demand["workspace_id"] == workspace_id
    assert demand["title"] == "Staffing: unfilled roles for Acme - Data Platform"

    # The ids are on the deal (its custom properties) and the new customer id on its company.
    written = hubspot.read("deals", deal)["properties"]
    assert (written["psa_project_id"], written["erp_project_id"]) == (workspace_id, job_id)
    assert written["dealstage"] == "closedwon" and written["amount"] == "120000"  # the rest left alone
    assert hubspot.read("companies", company)["properties"]["erp_customer_id"] == f"HS-{company}"

    # The deliveries linked the workspace and the job to the deal's canonical project.
    project = CrosswalkLink.objects.get(object="project", system="hubspot", external_id=deal).canonical_id
    links = dict(
        CrosswalkLink.objects.filter(object="project", canonical_id=project).values_list("system", "external_id")
    )
    assert links == {"hubspot": deal, "kantata": workspace_id, "netsuite": job_id}
    assert not CrosswalkLink.objects.filter(system="netsuite", external_id=customer_id, object="project").exists()

    # Moved back and to closed won again (two more webhooks): nothing is written twice.
    writes = Delivery.objects.count()
    hubspot.update("deals", deal, {"dealstage": "contractsent"})
    hubspot.update("deals", deal, {"dealstage": "closedwon"})
    later = runs_of_the_flow()[1:]
    assert len(later) == 2
    settle(ended(later))
    away, again = (Run.objects.get(pk=r.pk) for r in later)
    assert away.status == again.status == "succeeded", (away.error, again.error)
    assert {s.step_id: s.status for s in away.steps.all()}["deal"] == "skipped"  # not closed won: stops at the gate
    again_steps = {s.step_id: s.status for s in again.steps.all()}
    assert again_steps["deal"] == "succeeded" and again_steps["erp_customer"] == "skipped"  # the company is known now
    assert Delivery.objects.count() == writes  # every write's key already in the ledger, or not needed
    assert kantata.find_by_external_ref("workspaces", "opportunity", deal).remote_id == workspace_id
    assert netsuite.find_by_external_ref("job", "externalId", deal).remote_id == job_id
    assert hubspot.read("deals", deal)["properties"]["psa_project_id"] == workspace_id
