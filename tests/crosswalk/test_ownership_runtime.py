"""Ownership enforced by the runtime, against the sandboxes over real HTTP: an HR flow
writes a consultant's cost rate to NetSuite (HR owns it); a Kantata flow then sends a
different cost rate for the same consultant. The Kantata value is not written to NetSuite,
the rest of its change is, and ONE `conflict` exception shows both values and the owner.
Accepting the HR value closes it; taking the other value writes it, once."""

import pytest

from integrations.connections.demo import demo_values
from integrations.connections.models import Connection
from integrations.connections.services import create_connection
from integrations.connectors.registry import get_connector
from integrations.crosswalk.services import canonical_id, link
from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_one
from integrations.events.services import ingest_event
from integrations.reconcile import conflicts
from integrations.runs.models import RunException
from integrations.runs.services import execute_run
from tests.connectors.contract import use_sandboxes
from tests.runtime.conftest import publish_flow

pytestmark = pytest.mark.django_db(transaction=True)

WORKER, USER = "W-21001", "20301"  # consultant 1 of the seeded firm


def employee_flow(source: str, event: str, id_path: str) -> dict:
    return {
        "canonical": {"object": "worker", "source": source, "id": id_path},
        "trigger": {"type": "event", "connection": source, "event": event},
        "steps": [
            {"id": "employee", "type": "map", "fields": [
                {"to": "externalId", "constant": WORKER},
                {"to": "laborCost", "from": "$.cost_rate"},
                {"to": "title", "from": "$.title"}]},
            {"id": "erp", "type": "deliver", "connection": "netsuite", "object": "employee", "action": "upsert",
             "key": source + "-{{ input.change }}", "external_id_field": "externalId",
             "external_id": "{{ record.externalId }}", "canonical_fields": {"laborCost": "cost_rate"}},
        ],
    }  # fmt: skip


@pytest.fixture
def systems(live_server, settings, doorbells, personas):
    use_sandboxes(live_server, settings)
    for vendor in ("workday", "kantata", "netsuite"):
        create_connection("system:test", name=vendor, kind=vendor, **demo_values(vendor))
    from integrations.sandboxes.admin_api import reset_vendor

    reset_vendor("netsuite", "test")
    link("worker", "workday", WORKER, canonical=WORKER)
    link("worker", "kantata", USER, canonical=WORKER)
    publish_flow(personas["analyst"], employee_flow("workday", "worker.changed", "$.worker_id"), key="hr-to-erp")
    publish_flow(personas["analyst"], employee_flow("kantata", "user.changed", "$.user_id"), key="psa-to-erp")
    return get_connector(Connection.objects.get(name="netsuite"))


def run_event(source, event_type, change, payload, capture):
    ingested = ingest_event(source=source, type=event_type, external_id=change, payload={"change": change, **payload})
    run = execute_run(ingested.runs[0].pk)
    for delivery in Delivery.objects.filter(run=run, state="PENDING"):
        with capture(execute=True):
            deliver_one(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.state == "SUCCEEDED", delivery.last_error
    return execute_run(run.pk) if run.status == "waiting-delivery" else run


def netsuite_employee(netsuite):
    found = netsuite.find_by_external_ref("employee", "externalId", WORKER)
    return netsuite.read("employee", found.remote_id)


def kantata_change(capture):
    payload = {"user_id": USER, "cost_rate": 150.0, "title": "Principal consultant"}
    return run_event("kantata", "user.changed", "k1", payload, capture)


def test_a_kantata_cost_rate_is_not_written_and_raises_one_conflict(systems, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    hr = run_event("workday", "worker.changed", "h1", {"worker_id": WORKER, "cost_rate": 120.0, "title": "Consultant"},
                   capture)  # fmt: skip
    assert hr.status == "succeeded", hr.error
    assert netsuite_employee(systems)["laborCost"] == 120.0
    assert not RunException.objects.exists()

    psa = kantata_change(capture)
    assert psa.status == "succeeded", psa.error
    employee = netsuite_employee(systems)
    assert employee["laborCost"] == 120.0  # HR's value stands
    assert employee["title"] == "Principal consultant"  # the fields Kantata may change went through
    sent = Delivery.objects.get(run=psa)
    assert "laborCost" not in sent.payload

    exc = RunException.objects.get()
    assert (exc.classification, exc.kind, exc.status, exc.field) == ("conflict", "ownership", "open", "cost_rate")
    assert "owned by HR (120.0)" in exc.message and "kantata sent 150.0" in exc.message
    held = exc.original_input["conflicts"][0]
    assert (held["owner"], held["owner_value"], held["incoming"]) == ("hr", 120.0, 150.0)
    assert canonical_id("worker", "kantata", USER) == WORKER

    execute_run(psa.pk)  # executing the step again (a resumed run) opens nothing new
    assert RunException.objects.count() == 1

    closed = conflicts.resolve(exc, None, "owner", "HR's rate is the contract rate")
    assert (closed.status, closed.resolution_reason.startswith("kept the owner's value")) == ("resolved", True)
    assert netsuite_employee(systems)["laborCost"] == 120.0
    assert Delivery.objects.count() == 2  # nothing more was written


def test_taking_the_other_value_writes_it_once(systems, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    run_event("workday", "worker.changed", "h1", {"worker_id": WORKER, "cost_rate": 120.0, "title": "Consultant"},
              capture)  # fmt: skip
    kantata_change(capture)
    exc = RunException.objects.get()
    conflicts.resolve(exc, None, "incoming", "rate agreed with HR by phone")
    override = Delivery.objects.get(run=None)
    assert override.payload == {"laborCost": 150.0, "externalId": WORKER}
    with capture(execute=True):
        deliver_one(override.pk)
    assert netsuite_employee(systems)["laborCost"] == 150.0
    with pytest.raises(Exception, match="only open or assigned"):
        conflicts.resolve(RunException.objects.get(), None, "incoming", "again")
    assert Delivery.objects.filter(run=None).count() == 1


def test_changing_the_rule_lets_the_psa_own_it(systems, django_capture_on_commit_callbacks):
    from integrations.crosswalk.ownership import owner_of

    capture = django_capture_on_commit_callbacks
    kantata_change(capture)  # no HR value seen yet: still held back
    exc = RunException.objects.get()
    assert exc.original_input["conflicts"][0]["owner_known"] is False
    conflicts.resolve(exc, None, "rule", "the PSA sets rates from now on")
    assert owner_of("worker", "cost_rate") == "psa"
    again = run_event("kantata", "user.changed", "k2", {"user_id": USER, "cost_rate": 160.0, "title": "x"}, capture)
    assert again.status == "succeeded" and netsuite_employee(systems)["laborCost"] == 160.0
    assert RunException.objects.filter(status="open").count() == 0


def test_the_conflicts_page_shows_both_values_and_resolves(systems, django_capture_on_commit_callbacks, client_for):
    capture = django_capture_on_commit_callbacks
    run_event("workday", "worker.changed", "h1", {"worker_id": WORKER, "cost_rate": 120.0, "title": "Consultant"},
              capture)  # fmt: skip
    kantata_change(capture)
    exc = RunException.objects.get()
    page = client_for("viewer").get("/crosswalk/conflicts/").content.decode()
    assert 'data-testid="owner-value">120.0<' in page and 'data-testid="incoming-value">150.0 ' in page
    assert "conflict-resolve" not in page  # a viewer cannot resolve
    inbox = client_for("viewer").get("/exceptions/", {"classification": "conflict"})
    assert inbox.status_code == 200 and "Ownership conflict on worker W-21001" in inbox.content.decode()
    detail = client_for("viewer").get(f"/exceptions/{exc.pk}/").content.decode()
    assert f'href="/crosswalk/conflicts/#conflict-{exc.pk}" data-testid="exc-conflict-link"' in detail
    operator = client_for("operator")
    assert operator.post("/crosswalk/conflicts/", {"exception": exc.pk, "choice": "owner"}).status_code == 400
    operator.post("/crosswalk/conflicts/", {"exception": exc.pk, "choice": "owner", "reason": "HR is right"})
    exc.refresh_from_db()
    assert exc.status == "resolved" and exc.resolved_by.username == "operator"
    assert 'data-testid="conflicts-empty"' in operator.get("/crosswalk/conflicts/").content.decode()


def test_a_successful_upsert_links_its_remote_id_and_a_clash_never_fails_the_ledger(
    systems, django_capture_on_commit_callbacks
):
    from integrations.crosswalk.models import CrosswalkLink
    from integrations.crosswalk.services import external_id

    capture = django_capture_on_commit_callbacks
    run_event("workday", "worker.changed", "h1", {"worker_id": WORKER, "cost_rate": 120.0, "title": "Consultant"},
              capture)  # fmt: skip
    made = CrosswalkLink.objects.get(system="netsuite")
    assert (made.canonical_id, made.source, made.external_id) == (WORKER, "delivery", netsuite_employee(systems)["id"])
    assert made.run_id == Delivery.objects.get().run_id
    made.external_id = "999"  # the identity already has another NetSuite id
    made.save()
    again = run_event("workday", "worker.changed", "h2", {"worker_id": WORKER, "cost_rate": 121.0, "title": "C"},
                      capture)  # fmt: skip
    assert again.status == "succeeded" and external_id("worker", WORKER, "netsuite") == "999"
