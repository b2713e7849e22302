"""A broker message redelivered while its row is still leased (a visibility timeout shorter
than the task) is dropped by the claim, and counted: a WARNING naming the row, a note
/healthz reads, and a warning there once it repeats (integrations/health/checks.py)."""

import logging

from integrations.deliveries import ledger
from integrations.deliveries.sender import deliver_chunk
from integrations.events.services import ingest_event
from integrations.health.checks import REDELIVERY_ALARM_COUNT
from integrations.health.models import Redelivery
from integrations.health.tasks import heartbeat
from integrations.runs import services
from integrations.runs.models import Run
from tests.reliability.harness import request_postings


def test_a_redelivered_message_for_a_leased_delivery_is_logged_and_noted(erp, caplog):
    (delivery,) = request_postings(erp, 1)
    assert ledger.claim(delivery.pk) is not None  # a running task holds it
    with caplog.at_level(logging.WARNING, logger="integrations.health"):
        assert deliver_chunk([delivery.pk], redelivered=True, hostname="w2@host") == {"not_due": 1}
    note = Redelivery.objects.get()
    assert (note.kind, note.row_id, note.hostname) == ("delivery", delivery.pk, "w2@host")
    assert 0 <= note.held_seconds < 5
    assert f"delivery {delivery.pk}: message redelivered while the row is leased" in caplog.text


def test_a_duplicate_that_is_not_a_redelivery_or_finds_no_lease_is_not_noted(erp):
    first, second = request_postings(erp, 2)
    ledger.claim(first.pk)
    assert deliver_chunk([first.pk]) == {"not_due": 1}  # a second doorbell from the dispatcher
    assert deliver_chunk([second.pk], redelivered=True) == {"succeeded": 1}  # redelivered, nobody holds it
    assert deliver_chunk([second.pk], redelivered=True) == {"not_due": 1}  # redelivered after it finished
    assert not Redelivery.objects.exists()


def test_a_redelivered_message_for_a_leased_run_is_noted(invoice_flow, erp):
    ingest_event(source="crm", type="invoice.approved", external_id="evt-1", payload={"id": "INV-1", "amount": 5})
    run = Run.objects.get()
    assert services.claim(run.pk) is not None
    assert services.execute_run(run.pk, redelivered=True) is None
    assert Redelivery.objects.get().kind == "run"


def test_healthz_warns_when_redeliveries_repeat_and_says_what_to_check(client, erp):
    heartbeat.apply()
    deliveries = request_postings(erp, REDELIVERY_ALARM_COUNT)
    for delivery in deliveries[:-1]:
        ledger.claim(delivery.pk)
        deliver_chunk([delivery.pk], redelivered=True)
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["warnings"] == []
    assert body["redeliveries"] == {"ok": True, "count": REDELIVERY_ALARM_COUNT - 1, "window_minutes": 15}

    ledger.claim(deliveries[-1].pk)
    deliver_chunk([deliveries[-1].pk], redelivered=True)
    response = client.get("/healthz")
    assert response.status_code == 200  # a warning, not an outage: the balancer keeps the node
    body = response.json()
    assert body["status"] == "warning" and body["warnings"] == ["redeliveries"] and body["down"] == []
    warning = body["redeliveries"]["warning"]
    assert f"{REDELIVERY_ALARM_COUNT} task messages came back" in warning
    assert "SWITCHBOARD_VISIBILITY_TIMEOUT" in warning and "SWITCHBOARD_LEASE_SECONDS" in warning
