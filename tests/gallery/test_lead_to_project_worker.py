"""Lead to project end to end through a real worker against the sandboxes: a won Salesforce
opportunity (change event → completed by a look-up) becomes a Kantata workspace and a NetSuite
customer + job, resource demand in Kantata, the PSA id on the opportunity and the new ERP
customer id on its account — field by field — with the crosswalk links the deliveries made.
Sent again, nothing is written twice; won again with a new amount, the same records are
updated. The regional variant books an EMEA deal in the EMEA subsidiary."""

from integrations.crosswalk.models import CrosswalkLink
from integrations.deliveries.models import Delivery
from integrations.events.services import ingest_event
from integrations.flows.models import Flow
from integrations.flows.services import set_status
from integrations.runs.models import Run
from tests.gallery.conftest import connector, settle
from tests.reliability.harness import WORKER_TEST_MARKS

pytestmark = WORKER_TEST_MARKS


def won(opportunity_id: str, n: int, payload=None):
    payload = payload or {"Id": opportunity_id, "StageName": "Closed Won",
                          "ChangeEventHeader": {"entityName": "Opportunity", "changeType": "UPDATE"}}  # fmt: skip
    return ingest_event(source="salesforce", type="opportunity.won", external_id=f"evt-{n}", payload=payload).runs


def ended(runs):
    ids = [r.pk for r in runs]
    return lambda: all(s in ("succeeded", "failed", "halted") for s in Run.objects.filter(pk__in=ids).values_list(
        "status", flat=True))  # fmt: skip


def erp_record(object_name: str, external_id: str) -> dict:
    netsuite = connector("netsuite")
    return netsuite.read(object_name, netsuite.find_by_external_ref(object_name, "externalId", external_id).remote_id)


def new_opportunity(region="EMEA", amount=120000):
    salesforce = connector("salesforce")
    account = salesforce.create("Account", {"Name": "Acme Analytics"}).remote_id
    opportunity = salesforce.create("Opportunity", {
        "Name": "Acme - Data Platform", "AccountId": account, "StageName": "Closed Won", "CloseDate": "2026-03-01",
        "Amount": amount, "CurrencyIsoCode": "USD", "Region__c": region, "Project_Start_Date__c": "2026-03-16",
    }).remote_id  # fmt: skip
    return salesforce, account, opportunity


def test_a_won_opportunity_becomes_a_project_in_the_psa_and_the_erp(sandboxes, workers):
    sandboxes()
    salesforce, account, opportunity = new_opportunity()
    workers()
    runs = won(opportunity, 1)
    settle(ended(runs))
    run = Run.objects.get(pk=runs[0].pk)
    assert run.status == "succeeded", run.error
    assert run.flow_version.flow.key == "lead-to-project"

    kantata, netsuite = connector("kantata"), connector("netsuite")
    workspace_id = kantata.find_by_external_ref("workspaces", "opportunity", opportunity).remote_id
    workspace = kantata.read("workspaces", workspace_id)
    assert (workspace["title"], workspace["creator_role"], workspace["currency"], workspace["start_date"]) == (
        "Acme - Data Platform", "maven", "USD", "2026-03-16")  # fmt: skip
    assert workspace["price_in_cents"] == 12_000_000 and workspace["budgeted"] is True
    customer = netsuite.read(
        "customer", netsuite.find_by_external_ref("customer", "externalId", f"SF-{account}").remote_id
    )
    assert customer["companyName"] == "Acme Analytics" and customer["subsidiary"]["id"] == "1"
    job_id = netsuite.find_by_external_ref("job", "externalId", opportunity).remote_id
    job = netsuite.read("job", job_id)
    assert (job["companyName"], job["startDate"], job["allowTime"]) == ("Acme - Data Platform", "2026-03-16", True)
    assert job["parent"] == {"externalId": f"SF-{account}"} and job["subsidiary"]["id"] == "1", job
    demand = kantata.read("stories", kantata.find_by_external_ref("stories", "task", f"demand:{opportunity}").remote_id)
    assert demand["workspace_id"] == workspace_id and demand["title"].startswith("Staffing: unfilled roles")
    assert salesforce.read("Opportunity", opportunity)["PSA_Project_Id__c"] == workspace_id
    assert salesforce.read("Account", account)["ERP_Customer_Id__c"] == f"SF-{account}"

    # The deliveries linked what they created to the opportunity's canonical project.
    project = CrosswalkLink.objects.get(object="project", system="salesforce", external_id=opportunity).canonical_id
    links = dict(
        CrosswalkLink.objects.filter(object="project", canonical_id=project).values_list("system", "external_id")
    )
    assert links == {"salesforce": opportunity, "kantata": workspace_id, "netsuite": job_id}

    # Sent again (the source repeats itself): the same version of the opportunity writes nothing.
    writes = Delivery.objects.count()
    again = won(opportunity, 2)
    settle(ended(again))
    assert Run.objects.get(pk=again[0].pk).status == "succeeded"
    assert Delivery.objects.count() == writes  # every key already in the ledger
    # Won again with a new amount: the same workspace and job are updated, not duplicated.
    salesforce.update("Opportunity", opportunity, {"Amount": 150000})
    third = won(opportunity, 3)
    settle(ended(third))
    assert Run.objects.get(pk=third[0].pk).status == "succeeded"
    assert kantata.find_by_external_ref("workspaces", "opportunity", opportunity).remote_id == workspace_id
    assert kantata.read("workspaces", workspace_id)["price_in_cents"] == 15_000_000
    assert netsuite.find_by_external_ref("job", "externalId", opportunity).remote_id == job_id
    assert Run.objects.filter(flow_version__flow__key="lead-to-project").count() == 3


def test_a_whole_opportunity_posted_as_it_is_and_the_regional_variant(sandboxes, workers):
    sandboxes()
    salesforce, account, opportunity = new_opportunity(region="EMEA", amount=90000)
    set_status(Flow.objects.get(key="lead-to-project"), "system:test", "paused")
    set_status(Flow.objects.get(key="lead-to-project-regional"), "system:test", "active")
    whole = salesforce.read("Opportunity", opportunity)
    workers()
    runs = won(opportunity, 1, payload=whole)
    settle(ended(runs))
    run = Run.objects.get(pk=runs[0].pk)
    assert run.status == "succeeded", run.error
    steps = {s.step_id: s.status for s in run.steps.all()}
    assert steps["complete"] == "skipped"  # a whole record is used as it is: no look-up
    assert steps["erp_emea"] == "succeeded" and steps["erp_na"] == "skipped"
    netsuite = connector("netsuite")
    job = netsuite.read("job", netsuite.find_by_external_ref("job", "externalId", opportunity).remote_id)
    customer = netsuite.read(
        "customer", netsuite.find_by_external_ref("customer", "externalId", f"SF-{account}").remote_id
    )
    assert job["subsidiary"]["id"] == "2" and customer["subsidiary"]["id"] == "2"  # EMEA
