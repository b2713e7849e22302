"""The demo's approved-time flow runs green over the sandboxes: the demo seed links every
Kantata user of the sandbox firm to its worker, so each approved time entry polled from the
Kantata sandbox becomes a NetSuite time bill for the right employee."""

import io

import pytest

from integrations.connections.demo import demo_values
from integrations.connections.models import Connection
from integrations.connections.services import create_connection
from integrations.connectors.registry import get_connector
from integrations.crosswalk import demo as crosswalk_demo
from integrations.crosswalk.models import CrosswalkLink
from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_one
from integrations.flows import demo as flows_demo
from integrations.flows.models import Flow
from integrations.runs.models import Run, RunException
from integrations.runs.services import execute_run
from integrations.sandboxes.admin_api import reset_vendor
from integrations.sandboxes.seed.firm import generate_firm
from integrations.triggers.polls import poll
from tests.connectors.contract import use_sandboxes

ENTRIES = 40  # time entries in the sandboxes: one firm, the same in Kantata and NetSuite


@pytest.fixture
def demo(live_server, settings, doorbells):
    use_sandboxes(live_server, settings)
    for vendor in ("kantata", "netsuite"):
        create_connection("system:test", name=vendor, kind=vendor, **demo_values(vendor))
        reset_vendor(vendor, ENTRIES)
    # The demo seeders that matter here, in seed_demo's order, each run twice: idempotent.
    for seeder in (crosswalk_demo.seed, crosswalk_demo.seed, flows_demo.seed, flows_demo.seed):
        seeder(io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_polled_approved_time_becomes_netsuite_time_bills_for_the_right_employees(
    demo, django_capture_on_commit_callbacks
):
    firm = generate_firm(42, ENTRIES)
    entries = list(firm.time_entries())
    approved = [e for e in entries if e["approved"]]
    assert len(approved) == ENTRIES  # this firm has no unapproved time: every run must succeed

    flow = Flow.objects.get(key="approved-time-to-netsuite")
    assert poll(flow.pk) == ENTRIES
    runs = [execute_run(r.pk) for r in Run.objects.filter(flow_version__flow=flow).order_by("id")]
    assert {r.status for r in runs} == {"waiting-delivery"}, [r.error for r in runs if r.status != "waiting-delivery"]
    assert not RunException.objects.exists()

    workers = {c["id"]: c["worker_id"] for c in firm.consultants}
    expected = sorted(workers[e["consultant_id"]] for e in entries)
    assert sorted(d.payload["employee"]["externalId"] for d in Delivery.objects.all()) == expected

    sample = list(Delivery.objects.order_by("id")[:3])
    with django_capture_on_commit_callbacks(execute=True):
        for delivery in sample:
            deliver_one(delivery.pk)
    netsuite = get_connector(Connection.objects.get(name="netsuite"))
    for delivery in sample:
        delivery.refresh_from_db()
        assert delivery.state == "SUCCEEDED", delivery.last_error
        assert execute_run(delivery.run_id).status == "succeeded"
        bill = netsuite.read("timeBill", delivery.remote_id)
        assert bill["hours"] == delivery.payload["hours"]


def test_the_demo_links_match_the_kantata_sandbox_users(db):
    from integrations.sandboxes.kantata.seed import users

    crosswalk_demo.seed(io.StringIO())
    out = io.StringIO()
    crosswalk_demo.seed(out)
    assert "0 Kantata user → worker links added" in out.getvalue()
    firm = generate_firm(42, "demo")
    for consultant, (user_id, row, _key) in zip(firm.consultants, users(firm), strict=True):
        link = CrosswalkLink.objects.get(object="worker", system="kantata", external_id=user_id)
        assert link.canonical_id == consultant["worker_id"], row["full_name"]
    assert CrosswalkLink.objects.count() == 1333  # the largest firm a sandbox can be reset to
