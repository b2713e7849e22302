"""An attempt we never heard back from, against a target that commits late: an idempotent
upsert is simply sent again; without one, the next attempt waits the settle time, looks up
first, and after the unclear attempts run out the delivery is `uncertain` for a person —
never a second posting."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from reliability.harness import make_connection, request_postings

from integrations.deliveries import transport
from integrations.deliveries.choices import Classification, DeliveryState, Outcome
from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_one
from integrations.deliveries.services import retry_delivery
from integrations.events.services import ingest_event
from tests.api.runtime_fixtures import *  # noqa: F403
from tests.runtime.test_event_to_delivery import drive


def make_due(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def posts(simulator, ref: str, method: str = "POST") -> int:
    return sum(1 for r in simulator.state()["requests"] if r["method"] == method and r["ref"] == ref)


@pytest.fixture
def slow_erp(db, simulator):
    """Our client gives up after 1 s; the target keeps working (see the simulator's late:S)."""
    return make_connection(simulator, timeout_seconds=1, config={"settle_seconds": 3})


def test_an_idempotent_upsert_is_sent_again_at_once_and_the_late_commit_updates_it(db, simulator):
    erp = make_connection(simulator, upsert=True, timeout_seconds=1, config={"settle_seconds": 3})
    simulator.config(honour_keys=False, script={"inv:0": ["late:1.5"]})
    (delivery,) = request_postings(erp, 1)
    assert deliver_one(delivery.pk) == Outcome.RETRYABLE  # timed out; the target commits at 1.5 s
    delivery.refresh_from_db()
    assert delivery.unclear_attempts == 0, "an idempotent write is never unclear"
    assert delivery.next_attempt_at < timezone.now() + timedelta(seconds=1), "no settle wait needed"
    make_due(delivery)
    assert deliver_one(delivery.pk) == Outcome.SUCCEEDED
    time.sleep(1.5)  # the first request commits now, as an upsert
    assert [p["external_ref"] for p in simulator.postings()] == ["inv:0"]
    assert posts(simulator, "inv:0", "PUT") == 2 and posts(simulator, "inv:0") == 0


def test_without_one_the_next_attempt_waits_the_settle_time_and_finds_the_late_commit(slow_erp, simulator):
    simulator.config(honour_keys=False, script={"inv:0": ["late:1.5"]})
    (delivery,) = request_postings(slow_erp, 1)
    before = timezone.now()
    assert deliver_one(delivery.pk) == Outcome.RETRYABLE
    delivery.refresh_from_db()
    assert delivery.unclear_attempts == 1 and delivery.needs_lookup
    assert delivery.next_attempt_at >= before + timedelta(seconds=3), "re-tried before the settle time"
    time.sleep(1)  # the late commit lands
    make_due(delivery)
    assert deliver_one(delivery.pk) == Outcome.FOUND
    assert len(simulator.postings()) == 1 and posts(simulator, "inv:0") == 1


def test_after_the_unclear_attempts_run_out_it_is_uncertain_and_never_posted_again(slow_erp, simulator):
    slow_erp.config = {**slow_erp.config, "settle_seconds": 0, "max_unclear_attempts": 2}
    slow_erp.save()
    simulator.config(honour_keys=False, script={"inv:0": ["lost:1.2", "lost:1.2", "lost:1.2"]})
    (delivery,) = request_postings(slow_erp, 1)
    results = []
    for _ in range(3):
        results.append(deliver_one(delivery.pk))
        time.sleep(0.3)  # the lost request rolls back at 1.2 s
        make_due(delivery)
    assert results == [Outcome.RETRYABLE, Outcome.RETRYABLE, Outcome.UNCERTAIN]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.classification) == (DeliveryState.DEAD, Classification.UNCERTAIN)
    assert "not found" in delivery.last_error and "Not posted again" in delivery.last_error
    assert posts(simulator, "inv:0") == 2, "posted after the unclear attempts ran out"
    assert simulator.postings() == []
    make_due(delivery)
    assert deliver_one(delivery.pk) == "not_due"


@pytest.mark.parametrize(
    ("config", "minimum", "expected"),
    [
        ({"timeout_seconds": 5}, 30, 30.0),  # 3 x 5 s is below the minimum
        ({"timeout_seconds": 20}, 30, 60.0),
        ({}, 30, 90.0),  # the HTTP client's default timeout: 30 s
        ({"timeout_seconds": 5, "settle_seconds": 7}, 30, 7.0),
        ({"timeout_seconds": 5, "settle_seconds": "soon"}, 30, 30.0),  # bad value: the default
        ({"timeout_seconds": 1}, 2, 3.0),
    ],
)
def test_settle_time_defaults_well_above_the_client_timeout(settings, config, minimum, expected):
    settings.SWITCHBOARD_SETTLE_MIN_SECONDS = minimum

    class Conn:
        pass

    conn = Conn()
    conn.config = config
    assert transport.settle_seconds(conn) == expected


def test_an_uncertain_delivery_opens_an_uncertain_exception_listed_by_the_api(
    invoice_flow, simulator, token_client, django_capture_on_commit_callbacks
):
    erp = make_connection(
        simulator, timeout_seconds=1, max_attempts=3, config={"settle_seconds": 0, "max_unclear_attempts": 1}
    )
    assert erp.name == "erp"
    simulator.config(honour_keys=False, script={"INV-9": ["lost:1.2"]})
    result = ingest_event(source="crm", type="invoice.approved", external_id="e9", payload={"id": "INV-9", "amount": 3})
    run = drive(result.runs[0].pk, django_capture_on_commit_callbacks)  # one attempt: no answer
    time.sleep(0.3)
    delivery = Delivery.objects.get(run=run)
    make_due(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_one(delivery.pk) == Outcome.UNCERTAIN
    body = token_client("operator").get("/api/v1/exceptions/", {"classification": "uncertain"}).json()
    (row,) = body["results"]
    assert (row["classification"], row["delivery_id"], row["step_id"]) == ("uncertain", delivery.pk, "post")
    assert simulator.postings() == []


def test_a_person_who_retries_an_uncertain_delivery_gets_it_posted(slow_erp, simulator):
    slow_erp.config = {**slow_erp.config, "settle_seconds": 0, "max_unclear_attempts": 1}
    slow_erp.save()
    simulator.config(honour_keys=False, script={"inv:0": ["lost:1.2"]})
    (delivery,) = request_postings(slow_erp, 1)
    assert deliver_one(delivery.pk) == Outcome.RETRYABLE
    time.sleep(0.3)
    make_due(delivery)
    assert deliver_one(delivery.pk) == Outcome.UNCERTAIN
    retry_delivery(Delivery.objects.get(pk=delivery.pk), actor="tester")  # checked the ERP: not there
    assert deliver_one(delivery.pk) == Outcome.SUCCEEDED
    assert [p["external_ref"] for p in simulator.postings()] == ["inv:0"]
