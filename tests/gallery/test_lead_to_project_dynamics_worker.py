"""Lead to project with Dynamics 365 as the ERP, end to end through a real worker: a won
Salesforce opportunity (posted whole) becomes a Kantata workspace, a
Dynamics account (upserted by accountnumber), a Project Operations project bound to it
(upserted by sb_externalref), its billing method on a project contract line, resource demand
in Kantata, the PSA id on the opportunity and the new account number on its Salesforce
account — field by field, with the crosswalk links. Sent again as a change event (completed
by a look-up), nothing is written twice."""

from integrations.connections.demo import demo_values
from integrations.connections.services import create_connection
from integrations.crosswalk.models import CrosswalkLink
from integrations.deliveries.models import Delivery
from integrations.flows.models import Flow
from integrations.flows.services import set_status
from integrations.runs.models import Run
from integrations.sandboxes.admin_api import reset_vendor
from tests.gallery.conftest import connector, settle
from tests.gallery.test_lead_to_project_worker import ended, new_opportunity, won
from tests.reliability.harness import WORKER_TEST_MARKS

pytestmark = WORKER_TEST_MARKS
KEY = "lead-to-project-dynamics"
TIME_AND_MATERIAL = 192350000


def dynamics_instead_of_netsuite(sandboxes):
    """The demo publishes this variant paused (its ERP is NetSuite): switch the firm to Dynamics."""
    create_connection("system:test", name="dynamics", kind="dynamics", **demo_values("dynamics"))
    sandboxes()  # publishes the gallery's flows, this one too now that a dynamics connection exists
    reset_vendor("dynamics", 300)
    set_status(Flow.objects.get(key="lead-to-project"), "system:test", "paused")
    set_status(Flow.objects.get(key=KEY), "system:test", "active")


def by_key(dynamics, entity_set: str, column: str, value: str) -> tuple[str, dict]:
    found = dynamics.find_by_external_ref(entity_set, column, value)
    assert found is not None, f"no {entity_set} with {column} {value!r}"
    return found.remote_id, dynamics.read(entity_set, found.remote_id)


def test_a_won_opportunity_becomes_a_project_in_kantata_and_dynamics(sandboxes, workers):
    dynamics_instead_of_netsuite(sandboxes)
    salesforce, account, opportunity = new_opportunity(region="NA", amount=120000)
    workers()
    # The whole Opportunity as its event (the client's crosswalk link reads AccountId from it).
    runs = won(opportunity, 1, payload=salesforce.read("Opportunity", opportunity))
    settle(ended(runs))
    run = Run.objects.get(pk=runs[0].pk)
    assert run.status == "succeeded", run.error
    assert run.flow_version.flow.key == KEY and run.business_key == opportunity

    kantata, dynamics = connector("kantata"), connector("dynamics")
    workspace_id = kantata.find_by_external_ref("workspaces", "opportunity", opportunity).remote_id
    workspace = kantata.read("workspaces", workspace_id)
    assert (workspace["title"], workspace["creator_role"], workspace["currency"], workspace["start_date"]) == (
        "Acme - Data Platform", "maven", "USD", "2026-03-16")  # fmt: skip
    assert workspace["price_in_cents"] == 12_000_000 and workspace["budgeted"] is True

    account_id, dyn_account = by_key(dynamics, "accounts", "accountnumber", f"SF-{account}")
    assert (dyn_account["name"], dyn_account["accountnumber"]) == ("Acme Analytics", f"SF-{account}")
    project_id, project = by_key(dynamics, "msdyn_projects", "sb_externalref", opportunity)
    assert project["msdyn_subject"] == "Acme - Data Platform"
    assert project["msdyn_description"] == f"Won in Salesforce ({opportunity})"
    assert project["msdyn_scheduledstart"].startswith("2026-03-16")
    assert project["_msdyn_customer_value"] == account_id  # bound by the account number
    line_id, line = by_key(dynamics, "salesorderdetails", "sb_externalref", opportunity)
    assert line["msdyn_billingmethod"] == TIME_AND_MATERIAL and line["_msdyn_project_value"] == project_id
    assert (line["productdescription"], line["priceperunit"]) == ("Acme - Data Platform", 120000)

    demand = kantata.read("stories", kantata.find_by_external_ref("stories", "task", f"demand:{opportunity}").remote_id)
    assert demand["workspace_id"] == workspace_id and demand["title"].startswith("Staffing: unfilled roles")
    assert salesforce.read("Opportunity", opportunity)["PSA_Project_Id__c"] == workspace_id
    assert salesforce.read("Account", account)["ERP_Customer_Id__c"] == f"SF-{account}"

    # The deliveries linked what they created: the project in each system, the client's
    # Dynamics account, and the contract line as an identity of its own.
    canonical = CrosswalkLink.objects.get(object="project", system="salesforce", external_id=opportunity).canonical_id
    links = dict(
        CrosswalkLink.objects.filter(object="project", canonical_id=canonical).values_list("system", "external_id")
    )
    assert links == {"salesforce": opportunity, "kantata": workspace_id, "dynamics": project_id}
    client = CrosswalkLink.objects.get(object="client", system="dynamics").canonical_id
    assert CrosswalkLink.objects.get(object="client", canonical_id=client, system="salesforce").external_id == account
    assert CrosswalkLink.objects.get(object="contract_line", system="dynamics").external_id == line_id

    # Sent again, as a change event completed by a look-up: the same version of the
    # opportunity writes nothing, in any system.
    writes = Delivery.objects.count()
    again = won(opportunity, 2)
    settle(ended(again))
    assert Run.objects.get(pk=again[0].pk).status == "succeeded"
    assert Delivery.objects.count() == writes
    # one record per key (a second would make the look-up fail), the same as before
    assert by_key(dynamics, "accounts", "accountnumber", f"SF-{account}")[0] == account_id
    assert by_key(dynamics, "msdyn_projects", "sb_externalref", opportunity)[0] == project_id
    assert by_key(dynamics, "salesorderdetails", "sb_externalref", opportunity)[0] == line_id
    # The account now has its ERP customer id: a second run makes no new Dynamics account.
    steps = {s.step_id: s.status for s in Run.objects.get(pk=again[0].pk).steps.all()}
    assert steps["erp_customer"] == "skipped" and steps["complete"] == "succeeded"
