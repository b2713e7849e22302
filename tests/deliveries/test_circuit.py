"""The per-connection circuit breaker (docs/RELIABILITY.md §7), against the simulator."""

import threading
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.utils import timezone
from reliability.harness import make_connection, request_postings

from integrations.audit.models import AuditEntry
from integrations.connections.models import Connection
from integrations.deliveries import circuit
from integrations.deliveries.choices import DeliveryState, Outcome
from integrations.deliveries.dispatcher import dispatch_due
from integrations.deliveries.holds import hold_for
from integrations.deliveries.models import Delivery, DeliveryAttempt
from integrations.deliveries.queries import held_count
from integrations.deliveries.sender import deliver_one


def deliver_all(deliveries) -> list[str]:
    return [deliver_one(d.pk) for d in deliveries]


def opened(connection) -> int:
    return AuditEntry.objects.filter(action="connection.circuit_opened", object_id=str(connection.pk)).count()


def closed(connection) -> int:
    return AuditEntry.objects.filter(action="connection.circuit_closed", object_id=str(connection.pk)).count()


def open_circuit(connection, simulator) -> list[Delivery]:
    """Trip the circuit with five 503s; returns the five failed and five untouched rows."""
    simulator.config(unavailable=True)
    rows = request_postings(connection, 10)
    assert deliver_all(rows[:5]) == [Outcome.RETRYABLE] * 5
    connection.refresh_from_db()
    assert circuit.is_open(connection, timezone.now())
    return rows


def cooldown_ends(connection) -> None:
    Connection.objects.filter(pk=connection.pk).update(circuit_open_until=timezone.now() - timedelta(seconds=1))
    Delivery.objects.filter(connection=connection).update(next_attempt_at=timezone.now())
    connection.refresh_from_db()


def test_five_consecutive_503s_open_the_circuit_and_hold_the_rest(erp, simulator):
    rows = open_circuit(erp, simulator)
    until = erp.circuit_open_until
    assert timedelta(seconds=29) < until - timezone.now() <= timedelta(seconds=30)
    # The sixth is not sent: held, still PENDING, no attempt consumed.
    assert deliver_all(rows[5:]) == ["held"] * 5
    assert set(Delivery.objects.filter(pk__in=[d.pk for d in rows[5:]]).values_list("state", "attempts")) == {
        (DeliveryState.PENDING, 0)
    }
    assert DeliveryAttempt.objects.count() == 5
    hold = hold_for(erp)
    assert hold.reason == "circuit" and hold.label == f"Circuit open until {until:%Y-%m-%d %H:%M:%S} UTC"
    assert held_count(erp) == 10
    assert opened(erp) == 1  # one entry for the state change, not one per failure


def test_an_open_circuit_is_not_dispatched(erp, simulator):
    open_circuit(erp, simulator)
    Delivery.objects.filter(connection=erp).update(next_attempt_at=timezone.now())
    sent = []
    assert dispatch_due(send=lambda ids, queue: sent.append(ids)) == 0
    assert sent == []


def test_successes_in_between_keep_it_closed(erp, simulator):
    script = {f"inv:{n}": ["503"] for n in (0, 1, 2, 3, 5, 6, 7, 8)}
    simulator.config(script=script)
    rows = request_postings(erp, 9)
    results = deliver_all(rows)
    assert results.count(Outcome.SUCCEEDED) == 1 and results.count(Outcome.RETRYABLE) == 8
    erp.refresh_from_db()
    assert erp.circuit_open_until is None and erp.circuit_failures == 4
    assert opened(erp) == 0


def test_permanent_422s_do_not_count(erp, simulator):
    simulator.config(script={f"inv:{n}": ["422"] for n in range(6)})
    assert deliver_all(request_postings(erp, 6)) == [Outcome.DEAD] * 6
    erp.refresh_from_db()
    assert erp.circuit_open_until is None and erp.circuit_failures == 0


def test_503_with_retry_after_is_throttling_and_does_not_count(erp, simulator):
    simulator.config(script={f"inv:{n}": ["maint:30"] for n in range(6)})
    assert deliver_all(request_postings(erp, 6)) == [Outcome.RETRYABLE] * 6
    erp.refresh_from_db()
    assert erp.circuit_open_until is None and erp.circuit_failures == 0
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {0}


def test_half_open_dispatches_one_probe_and_its_success_closes_and_drains(
    erp, simulator, django_capture_on_commit_callbacks
):
    rows = open_circuit(erp, simulator)
    simulator.config(unavailable=False)
    cooldown_ends(erp)
    sent = []
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due(send=lambda ids, queue: sent.append(ids)) == 1
    # The least-tried row is the probe, so probes never wear down one delivery.
    assert sent == [[rows[5].pk]]
    assert deliver_one(rows[5].pk) == Outcome.SUCCEEDED
    erp.refresh_from_db()
    assert erp.circuit_open_until is None and erp.circuit_opens == 0 and hold_for(erp) is None
    assert closed(erp) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due(send=lambda ids, queue: sent.append(ids)) == 9  # the backlog, oldest-first
    assert sent[-1] == [d.pk for d in rows if d.pk != rows[5].pk]


def test_probe_failure_reopens_with_a_doubled_cooldown(erp, simulator):
    rows = open_circuit(erp, simulator)
    cooldown_ends(erp)
    assert deliver_one(rows[5].pk) == Outcome.RETRYABLE
    erp.refresh_from_db()
    assert timedelta(seconds=59) < erp.circuit_open_until - timezone.now() <= timedelta(seconds=60)
    assert erp.circuit_opens == 2 and opened(erp) == 2
    assert deliver_one(rows[6].pk) == "held"
    cooldown_ends(erp)
    assert deliver_one(rows[6].pk) == Outcome.RETRYABLE
    erp.refresh_from_db()
    assert timedelta(seconds=119) < erp.circuit_open_until - timezone.now() <= timedelta(seconds=120)


def test_cooldown_is_capped(settings):
    limits = circuit.Limits(threshold=5, cooldown=30, max_cooldown=600)
    assert [circuit.cooldown_seconds(limits, n) for n in range(7)] == [30, 60, 120, 240, 480, 600, 600]


def test_only_one_of_two_workers_takes_the_probe(erp, simulator):
    open_circuit(erp, simulator)
    cooldown_ends(erp)
    # Both read the row while it was half-open; the conditional UPDATE lets one through.
    first, second = Connection.objects.get(pk=erp.pk), Connection.objects.get(pk=erp.pk)
    now = timezone.now()
    token = circuit.take_probe(first, now)
    assert token is not None and circuit.take_probe(second, now) is None
    circuit.give_back_probe(first, token)  # e.g. the probe row was claimed by someone else
    assert circuit.take_probe(Connection.objects.get(pk=erp.pk), timezone.now()) is not None


def test_a_probe_answered_422_closes_the_circuit(erp, simulator):
    rows = open_circuit(erp, simulator)
    simulator.config(unavailable=False, script={rows[5].key: ["422"]})
    cooldown_ends(erp)
    assert deliver_one(rows[5].pk) == Outcome.DEAD
    erp.refresh_from_db()
    assert erp.circuit_open_until is None and closed(erp) == 1


def test_threshold_and_cooldown_per_connection(db, simulator):
    erp = make_connection(simulator)
    erp.config.update(circuit_threshold=2, circuit_cooldown_seconds=10)
    erp.save()
    simulator.config(unavailable=True)
    assert deliver_all(request_postings(erp, 3)) == [Outcome.RETRYABLE, Outcome.RETRYABLE, "held"]
    erp.refresh_from_db()
    assert erp.circuit_open_until - timezone.now() <= timedelta(seconds=10)


def test_a_bad_config_value_falls_back_to_the_default(erp, settings):
    erp.config.update(circuit_threshold="many", circuit_cooldown_seconds=-3)
    assert circuit.limits_of(erp) == circuit.Limits(threshold=5, cooldown=30.0, max_cooldown=600.0)
    settings.SWITCHBOARD_CIRCUIT_THRESHOLD = 0
    erp.config.pop("circuit_threshold")
    assert circuit.limits_of(erp).threshold == 0


def test_no_breaker_when_the_threshold_is_zero(erp, simulator, settings):
    settings.SWITCHBOARD_CIRCUIT_THRESHOLD = 0
    simulator.config(unavailable=True)
    assert deliver_all(request_postings(erp, 7)) == [Outcome.RETRYABLE] * 7
    erp.refresh_from_db()
    assert erp.circuit_open_until is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_exactly_one_probe(simulator):
    erp = make_connection(simulator, max_concurrency=16)
    rows = open_circuit(erp, simulator)
    simulator.config(latency_ms=200)
    cooldown_ends(erp)
    start, results = threading.Barrier(5), []

    def worker(pk):
        start.wait()
        try:
            results.append(deliver_one(pk))
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker, args=(d.pk,)) for d in rows[5:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == sorted([Outcome.RETRYABLE] + ["held"] * 4)
    assert DeliveryAttempt.objects.count() == 6


def test_the_connection_page_shows_the_open_circuit(erp, simulator, client_for):
    from django.urls import reverse

    open_circuit(erp, simulator)
    page = client_for("viewer").get(reverse("connections:detail", args=[erp.name])).content.decode()
    assert 'data-testid="conn-held"' in page and ">10 deliveries waiting<" in page
    assert f"Circuit open until {erp.circuit_open_until:%Y-%m-%d %H:%M:%S} UTC" in page
    cooldown_ends(erp)
    page = client_for("viewer").get(reverse("connections:detail", args=[erp.name])).content.decode()
    assert 'data-testid="conn-circuit"' not in page  # half-open: the next delivery probes


def test_closing_by_hand_audits_the_actor_and_the_held_deliveries_drain(
    erp, simulator, personas, django_capture_on_commit_callbacks
):
    rows = open_circuit(erp, simulator)
    simulator.config(unavailable=False)
    Delivery.objects.filter(connection=erp).update(next_attempt_at=timezone.now())
    sent = []
    assert dispatch_due(send=lambda ids, queue: sent.append(ids)) == 0  # still held
    until = erp.circuit_open_until
    assert circuit.close(erp, personas["analyst"]) is True
    assert erp.circuit_open_until is None and erp.circuit_opens == 0 and hold_for(erp) is None
    entry = AuditEntry.objects.get(action="connection.circuit_closed", object_id=str(erp.pk))
    assert entry.actor == personas["analyst"] and entry.changes == {"circuit_open_until": [until.isoformat(), None]}
    assert circuit.close(erp, personas["analyst"]) is False and closed(erp) == 1  # nothing to close
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due(send=lambda ids, queue: sent.append(ids)) == 10
    assert sent == [[d.pk for d in rows]]  # oldest first
    assert deliver_one(rows[5].pk) == Outcome.SUCCEEDED


def test_a_probe_out_when_closed_by_hand_cannot_reopen_it(erp, simulator, personas):
    open_circuit(erp, simulator)
    cooldown_ends(erp)
    token = circuit.take_probe(erp, timezone.now())
    assert token is not None
    assert circuit.close(Connection.objects.get(pk=erp.pk), personas["admin"]) is True
    assert circuit.failed(erp, probe=token) is False  # the late probe answer
    erp.refresh_from_db()
    assert erp.circuit_open_until is None and opened(erp) == 1
