"""/replay/: choose stored events by flow, connection, time range or business key; a dry run
shows per event what the live version would write against what the ledger holds; the real
replay goes through the same ledger (replaying twice posts nothing new to the sandbox), is
audited with its actor and followed by a progress panel that stops polling with 286. Roles:
viewers see the matching events, only replay_events may dry-run or replay."""

import copy
import html

import pytest

from integrations.audit.models import AuditEntry
from integrations.events.services import ingest_event
from integrations.flows.services import publish, save_draft
from integrations.runs.models import Run
from tests.runtime import conftest as runtime
from tests.runtime.test_event_to_delivery import drive

# The runtime's fixtures: a webhook source "crm", the ERP simulator "erp" and the invoice flow.
crm, doorbells, erp, invoice_flow, sim = runtime.crm, runtime.doorbells, runtime.erp, runtime.invoice_flow, runtime.sim
INVOICE_FLOW = runtime.INVOICE_FLOW

pytestmark = pytest.mark.django_db


def send(n: int, amount=None, client_key="ACME"):
    payload = {"id": f"INV-{n}", "region": "EMEA"}
    if amount is not None:
        payload["amount"] = amount
    return ingest_event(
        source="crm", type="invoice.approved", external_id=f"e{n}", payload=payload, business_key=client_key
    )


def replay_all(client, selection: dict, capture) -> list[Run]:
    """Dry-run, then replay for real as the page does, then let the workers run."""
    preview = client.post("/replay/preview/", selection)
    assert preview.status_code == 200
    total = Run.objects.count()
    real = client.post("/replay/run/", {**selection, "expected": str(preview.context["total"])})
    assert real.status_code == 303, real.content.decode()[:400]
    new = list(Run.objects.order_by("id")[total:])
    return [drive(run.pk, capture) for run in new], real["Location"]


def test_the_page_finds_events_by_business_key_flow_connection_and_time(
    invoice_flow, erp, sim, client_for, django_capture_on_commit_callbacks
):
    send(1, 10)
    send(2, 20, client_key="GLOBEX")
    client = client_for("viewer")
    by_key = client.get("/replay/?business_key=ACME")
    assert by_key.status_code == 200 and by_key.context["total"] == 1
    assert client.get("/replay/?flow=invoices").context["total"] == 2
    assert client.get("/replay/?connection=crm").context["total"] == 2
    assert client.get("/replay/?received_from=2000-01-01T00:00").context["total"] == 2
    assert client.get("/replay/?received_to=2000-01-01T00:00").context["total"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("flow=nope", "flow"),
        ("received_from=yesterday", "received_from"),
        ("received_from=2026-02-01T00:00&received_to=2026-01-01T00:00", "received_to"),
        ("connection=ghost", "connection"),
    ],
)
def test_bad_filters_are_400_naming_the_field(invoice_flow, client_for, query, field):
    response = client_for("viewer").get(f"/replay/?{query}")
    assert response.status_code == 400 and f'data-testid="error-{field}"' in response.content.decode()


def test_a_selection_is_required(invoice_flow, client_for):
    response = client_for("operator").post("/replay/preview/", {})
    assert response.status_code == 400 and "Choose the events" in response.content.decode()


def test_viewers_see_events_but_cannot_dry_run_or_replay(invoice_flow, client_for):
    send(1, 10)
    viewer = client_for("viewer")
    page = viewer.get("/replay/?business_key=ACME").content.decode()
    assert 'data-testid="replay-no-capability"' in page and 'data-testid="replay-dry-run"' not in page
    assert viewer.post("/replay/preview/", {"business_key": "ACME"}).status_code == 403
    assert viewer.post("/replay/run/", {"business_key": "ACME", "expected": "1"}).status_code == 403
    assert client_for("analyst").post("/replay/run/", {"business_key": "ACME", "expected": "1"}).status_code == 403
    assert Run.objects.count() == 1


def test_replaying_twice_posts_nothing_new_when_nothing_changed(
    invoice_flow, erp, sim, client_for, personas, django_capture_on_commit_callbacks
):
    for n in (1, 2):
        drive(send(n, n * 10).runs[0].pk, django_capture_on_commit_callbacks)
    assert len(sim.postings()) == 2
    operator = client_for("operator")

    preview = operator.post("/replay/preview/", {"business_key": "ACME"}).content.decode()
    assert preview.count('data-kind="same"') == 2 and "Replay 2 events for real" in preview

    for _ in range(2):  # the second replay finds everything done as well
        runs, progress = replay_all(operator, {"business_key": "ACME"}, django_capture_on_commit_callbacks)
        assert [r.status for r in runs] == ["succeeded", "succeeded"] and all(r.trigger == "replay" for r in runs)
        assert len(sim.postings()) == 2  # found done in the ledger, never posted again
    entry = AuditEntry.objects.filter(action="event.replay").latest("id")
    assert entry.actor == personas["operator"] and entry.message == "2 events → 2 runs"

    polled = operator.get(progress, HTTP_HX_REQUEST="true")
    assert polled.status_code == 286 and "2 of 2 runs settled" in polled.content.decode()
    assert 'data-testid="replay-count-succeeded">2 succeeded' in operator.get(progress).content.decode()


def test_after_a_fix_the_dry_run_shows_the_difference_and_only_the_missing_posting_goes_out(
    invoice_flow, erp, sim, client_for, personas, django_capture_on_commit_callbacks
):
    drive(send(1, 10).runs[0].pk, django_capture_on_commit_callbacks)  # posted
    broken = drive(send(2).runs[0].pk, django_capture_on_commit_callbacks)  # no amount: fails at mapping
    assert broken.status == "failed" and len(sim.postings()) == 1
    fixed = copy.deepcopy(INVOICE_FLOW)
    fixed["steps"][0]["fields"][1] = {"to": "amount", "from": "$.amount", "default": 0}
    fixed["steps"][0]["fields"][2]["constant"] = "USD"
    save_draft(invoice_flow, personas["analyst"], fixed)
    publish(invoice_flow, personas["analyst"])
    operator = client_for("operator")

    preview = operator.post("/replay/preview/", {"flow": "invoices"}).content.decode()
    assert preview.count('data-kind="new"') == 1 and preview.count('data-kind="changed"') == 1
    assert "<dt>currency</dt><dd><del>EUR</del> → <ins>USD</ins></dd>" in preview
    # What the live version would write for the event that never posted:
    assert html.escape('{"amount": 0, "currency": "USD", "external_ref": "INV-2"}') in preview
    assert len(sim.postings()) == 1  # the dry run wrote nothing

    runs, _ = replay_all(operator, {"flow": "invoices"}, django_capture_on_commit_callbacks)
    assert sorted(r.status for r in runs) == ["succeeded", "succeeded"]
    assert [(p["external_ref"], p["amount"]) for p in sim.postings()] == [("INV-1", 10), ("INV-2", 0)]


def test_a_replay_refuses_a_selection_that_changed_since_the_dry_run(invoice_flow, client_for):
    send(1, 10)
    operator = client_for("operator")
    response = operator.post("/replay/run/", {"business_key": "ACME", "expected": "5"})
    assert response.status_code == 400 and "expected: the selection now matches 1 events" in response.content.decode()
    assert Run.objects.count() == 1


def test_progress_needs_run_ids(client_for):
    response = client_for("operator").get("/replay/progress/?first=x&last=2")
    assert response.status_code == 400 and b"first" in response.content
