"""The demo flow against the sandboxes over real HTTP: a won opportunity created in the
Salesforce sandbox → its signed change event posted by the sandbox to /hooks/salesforce/ →
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
from tests.connectors.contract import use_sandboxes, wait_for

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
    assert wait_for(lambda: Run.objects.exists())  # the sandbox's change event came in by webhook
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
