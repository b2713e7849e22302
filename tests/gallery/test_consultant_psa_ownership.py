"""Consultant master sync's Kantata write respects the ownership rules: one Workday report row
run through the published definition (as an event, executed in-process, deliveries sent to
the sandboxes over HTTP). HR owns the cost rate by default, so it reaches the Kantata account
membership; once the PSA owns it, Workday's rate is held back from the Kantata write (and
from NetSuite's) and raised as a conflict, while the rest of the write goes through."""

import pytest

from integrations.connections.demo import demo_values
from integrations.connections.models import Connection
from integrations.connections.services import create_connection
from integrations.connectors.registry import get_connector
from integrations.crosswalk.ownership import set_owner
from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_one
from integrations.events.services import ingest_event
from integrations.gallery.flows.consultant_sync import DEFINITION
from integrations.runs.models import RunException
from integrations.runs.services import execute_run
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.admin_api import reset_vendor
from tests.connectors.contract import use_sandboxes
from tests.runtime.conftest import doorbells, publish_flow  # noqa: F401  (doorbells: a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def consultant(live_server, settings, doorbells, personas):  # noqa: F811
    """The sandboxes, and the flow as published, triggered by an event instead of the poll."""
    use_sandboxes(live_server, settings)
    for vendor in ("workday", "kantata", "netsuite"):
        create_connection("system:test", name=vendor, kind=vendor, **demo_values(vendor))
        reset_vendor(vendor, "test")
    trigger = {"type": "event", "connection": "workday", "event": "worker.changed"}
    publish_flow(personas["analyst"], {**DEFINITION, "trigger": trigger}, key="consultant-sync")
    user = store.records("kantata", "users").order_by("record_id").first().data
    return user, personas


def run_row(user: dict, change: str, capture, **fields):
    row = {"Employee_ID": "21001", "Legal_Name": user["full_name"], "Email_-_Work": user["email_address"],
           "Business_Title": user["headline"], "Location": "London", "Hire_Date": "2024-02-01",
           "Worker_Status": "Active", "Last_Updated": change, **fields}  # fmt: skip
    run = execute_run(ingest_event(source="workday", type="worker.changed", external_id=change, payload=row).runs[0].pk)
    for _step in range(4):  # each deliver step suspends the run until its write is done
        if run.status != "waiting-delivery":
            break
        for delivery in Delivery.objects.filter(run=run, state="PENDING"):
            with capture(execute=True):
                deliver_one(delivery.pk)
            delivery.refresh_from_db()
            assert delivery.state == "SUCCEEDED", delivery.last_error
        run = execute_run(run.pk)
    return run


def membership(user: dict) -> dict:
    return store.get("kantata", "account_memberships", user["account_membership_id"]).data


def test_hr_owns_the_cost_rate_until_the_psa_does(consultant, django_capture_on_commit_callbacks):
    user, personas = consultant
    capture = django_capture_on_commit_callbacks
    first = run_row(user, "2026-02-01T09:00:00", capture, Cost_Rate="120", Cost_Rate_Effective="2026-02-01")
    assert first.status == "succeeded", first.error
    assert membership(user)["cost_rate_in_cents"] == 12000
    assert not RunException.objects.exists()

    set_owner(personas["admin"], "worker", "cost_rate", "psa", reason="rates are set in the PSA")
    later = run_row(user, "2026-03-01T09:00:00", capture, Cost_Rate="135", Cost_Rate_Effective="2026-03-01",
                    Business_Title="Principal")  # fmt: skip
    assert later.status == "succeeded", later.error
    assert membership(user)["cost_rate_in_cents"] == 12000  # the PSA's rate stands
    sent = Delivery.objects.get(run=later, connection__name="kantata")
    assert "cost_rate_in_cents" not in sent.payload and sent.payload["headline"] == "Principal"
    assert get_connector(Connection.objects.get(name="kantata")).read("users", user["id"])["headline"] == "Principal"
    held = RunException.objects.get(run=later, item="conflict:psa")
    assert (held.classification, held.kind, held.field) == ("conflict", "ownership", "cost_rate")
    assert RunException.objects.filter(run=later, item="conflict:erp").exists()  # NetSuite's laborCost too
