"""The demo flow against the sandboxes over real HTTP: a won opportunity created in the
Salesforce sandbox → read by the connection's change feed (SOQL on SystemModstamp) →
the opportunity read back → a Kantata workspace upserted in the Kantata sandbox through the
ledger → the run succeeds."""

import io

import pytest

from integrations.connections.demo import demo_values
from integrations.connections.services import create_connection
from integrations.connectors.registry import get_connector
from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_one
from integrations.events.models import Event
from integrations.flows.demo import seed
from integrations.runs.models import Run
from integrations.runs.services import execute_run
from integrations.sandboxes.kantata.approvals import approve
from integrations.triggers.feeds import poll_feeds
from tests.connectors.contract import use_sandboxes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandboxes(live_server, settings, doorbells):
    use_sandboxes(live_server, settings)
    for vendor in ("salesforce", "kantata", "netsuite"):
        create_connection("system:test", name=vendor, kind=vendor, **demo_values(vendor))
    seed(io.StringIO())


def test_a_won_opportunity_becomes_a_kantata_workspace(sandboxes, django_capture_on_commit_callbacks):
    from integrations.connections.models import Connection

    salesforce = get_connector(Connection.objects.get(name="salesforce"))
    fields = {"Name": "Acme data platform", "StageName": "Closed Won", "CloseDate": "2026-03-01", "Amount": 120000}
    opportunity_id = salesforce.create("Opportunity", fields).remote_id
    assert poll_feeds() == 1 and Run.objects.exists()  # Salesforce sends no webhooks: the feed polls
    event = Event.objects.get()
    assert (event.source, event.type, event.payload["Id"]) == ("salesforce", "opportunity.won", opportunity_id)
    run = execute_run(Run.objects.get().pk)
    assert run.status == "waiting-delivery", run.error
    delivery = Delivery.objects.get()
    assert (
        delivery.payload["title"] == "Acme data platform"
        and delivery.idempotency_key == f"opportunity:{opportunity_id}"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_one(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == "SUCCEEDED", delivery.last_error
    assert execute_run(run.pk).status == "succeeded"
    kantata = get_connector(Connection.objects.get(name="kantata"))
    assert kantata.read("workspaces", delivery.remote_id)["title"] == "Acme data platform"
    assert Run.objects.count() == 1


def test_approved_time_is_polled_from_kantata_and_billed_in_netsuite_once(
    sandboxes, django_capture_on_commit_callbacks
):
    from integrations.connections.models import Connection
    from integrations.crosswalk.services import link
    from integrations.flows.models import Flow
    from integrations.sandboxes.admin_api import reset_vendor
    from integrations.triggers.polls import poll

    reset_vendor("kantata", 0)  # the firm's consultants as Kantata users, no time yet
    kantata = get_connector(Connection.objects.get(name="kantata"))
    workspace = kantata.create("workspaces", {"title": "Acme rollout", "creator_role": "maven"}).remote_id
    user_id = kantata.query("users").records[0]["id"]
    link("worker", "kantata", user_id, canonical="W-0042")
    for minutes, approved in ((90, True), (30, False)):
        entry = {"workspace_id": workspace, "user_id": user_id, "date_performed": "2026-03-02",
                 "time_in_minutes": minutes, "billable": True, "notes": "workshop"}  # fmt: skip
        created = kantata.create("time_entries", entry).remote_id
        if approved:  # approval is the timesheet's, not a writable attribute
            approve([created])
    flow = Flow.objects.get(key="approved-time-to-netsuite")
    assert poll(flow.pk) >= 2
    runs = [execute_run(r.pk) for r in Run.objects.filter(flow_version__flow=flow).order_by("id")]
    assert sorted(r.status for r in runs) == ["failed", "waiting-delivery"]  # not approved: an exception
    delivery = Delivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        deliver_one(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == "SUCCEEDED", delivery.last_error
    assert poll(flow.pk) == 0  # nothing changed since: nothing new
    netsuite = get_connector(Connection.objects.get(name="netsuite"))
    bill = netsuite.read("timeBill", delivery.remote_id)
    assert bill["hours"] == 1.5 and delivery.payload["employee"] == {"externalId": "W-0042"}
