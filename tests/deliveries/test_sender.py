"""One attempt per call, against the simulator: classification, backoff, lookup, fencing."""

from datetime import timedelta

from django.utils import timezone
from reliability.harness import request_postings

from integrations.audit.models import AuditEntry
from integrations.deliveries import ledger
from integrations.deliveries.choices import Classification, DeliveryState, Outcome
from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_one


def make_due(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_success_posts_once_with_the_ledger_key(erp, simulator):
    (delivery,) = request_postings(erp, 1)
    assert deliver_one(delivery.pk) == Outcome.SUCCEEDED
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED and delivery.remote_id == "P1"
    (posting,) = simulator.postings()
    assert posting["idempotency_key"] == "inv:0" and posting["external_ref"] == "inv:0"
    assert deliver_one(delivery.pk) == "not_due"  # done is never sent again
    assert simulator.posting_count() == 1


def test_transient_503_twice_then_success_is_one_posting(erp, simulator):
    simulator.config(script={"inv:0": ["503", "503"]})
    (delivery,) = request_postings(erp, 1)
    results = []
    for _ in range(3):
        results.append(deliver_one(delivery.pk))
        make_due(delivery)
    assert results == [Outcome.RETRYABLE, Outcome.RETRYABLE, Outcome.SUCCEEDED]
    delivery.refresh_from_db()
    assert delivery.attempts == 3 and delivery.state == DeliveryState.SUCCEEDED
    assert simulator.posting_count() == 1
    assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [503, 503, 201]


def test_422_is_dead_after_one_attempt_with_the_vendor_message(erp, simulator):
    simulator.config(script={"inv:0": ["422"]})
    (delivery,) = request_postings(erp, 1)
    assert deliver_one(delivery.pk) == Outcome.DEAD
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DEAD and delivery.attempts == 1
    assert "cost centre unknown" in delivery.last_error
    assert delivery.classification == Classification.PERMANENT
    assert AuditEntry.objects.filter(action="delivery.dead_lettered", object_id=str(delivery.pk)).exists()
    make_due(delivery)
    assert deliver_one(delivery.pk) == "not_due"


def test_429_retry_after_sets_the_next_attempt_no_sooner(erp, simulator):
    simulator.config(script={"inv:0": ["429:30"]})
    (delivery,) = request_postings(erp, 1)
    before = timezone.now()
    assert deliver_one(delivery.pk) == Outcome.RETRYABLE
    delivery.refresh_from_db()
    assert delivery.next_attempt_at >= before + timedelta(seconds=30)
    assert deliver_one(delivery.pk) == "not_due"


def test_dropped_connection_after_commit_is_resolved_by_lookup(erp, simulator):
    simulator.config(script={"inv:0": ["drop"]}, honour_keys=False)
    (delivery,) = request_postings(erp, 1)
    assert deliver_one(delivery.pk) == Outcome.RETRYABLE
    delivery.refresh_from_db()
    assert delivery.needs_lookup
    make_due(delivery)
    assert deliver_one(delivery.pk) == Outcome.FOUND
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED and delivery.remote_id == "P1"
    assert simulator.posting_count() == 1
    assert [r["method"] for r in simulator.state()["requests"]] == ["POST", "GET"]


def test_attempts_exhausted_is_dead(erp, simulator):
    erp.max_attempts = 2
    erp.save()
    simulator.config(script={"inv:0": ["503", "503"]})
    (delivery,) = request_postings(erp, 1)
    deliver_one(delivery.pk)
    make_due(delivery)
    assert deliver_one(delivery.pk) == Outcome.EXHAUSTED
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DEAD and delivery.classification == Classification.EXHAUSTED


def test_stale_fence_cannot_record(erp, simulator):
    (delivery,) = request_postings(erp, 1)
    first = ledger.claim(delivery.pk)
    later = timezone.now() + timedelta(seconds=3600)
    second = ledger.claim(delivery.pk, now=later)  # the first owner's lease ran out
    assert second.fence == first.fence + 1
    assert not ledger.finish(delivery.pk, first.fence, state=DeliveryState.SUCCEEDED, remote_id="late")
    assert ledger.finish(delivery.pk, second.fence, state=DeliveryState.SUCCEEDED, remote_id="X")
    delivery.refresh_from_db()
    assert delivery.remote_id == "X" and delivery.worker_losses == 1


def test_three_worker_losses_dead_letter_without_sending(erp, simulator):
    (delivery,) = request_postings(erp, 1)
    now = timezone.now()
    for i in range(3):
        ledger.claim(delivery.pk, now=now + timedelta(hours=i))
    assert ledger.claim(delivery.pk, now=now + timedelta(hours=3)) is None
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DEAD and delivery.classification == Classification.WORKER_LOST
    assert delivery.worker_losses == 3
    assert simulator.posting_count() == 0
    assert delivery.attempt_log.filter(outcome=Outcome.WORKER_LOST).count() == 1


def test_sweeper_counts_a_worker_loss_and_makes_the_row_due(erp):
    (delivery,) = request_postings(erp, 1)
    ledger.claim(delivery.pk)
    assert ledger.expire_leases(timezone.now() + timedelta(hours=1)) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING and delivery.worker_losses == 1 and delivery.needs_lookup


def test_held_connection_does_not_send(erp, simulator):
    from integrations.deliveries.holds import pause_connection

    pause_connection(erp, None, "ERP upgrade")
    (delivery,) = request_postings(erp, 1)
    assert deliver_one(delivery.pk) == "held"
    assert simulator.posting_count() == 0
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING and delivery.enqueued_at is None


def test_a_throttling_target_delays_but_never_dead_letters(erp, simulator):
    erp.max_attempts = 1
    erp.save()
    simulator.config(script={"inv:0": ["429:0", "429:0", "429:0"]})
    (delivery,) = request_postings(erp, 1)
    for _ in range(3):
        assert deliver_one(delivery.pk) == Outcome.RETRYABLE
        delivery.refresh_from_db()
        assert delivery.attempts == 0
        make_due(delivery)
    assert deliver_one(delivery.pk) == Outcome.SUCCEEDED
    assert simulator.posting_count() == 1


def test_a_chunk_past_its_time_budget_hands_the_rest_back(erp, simulator, settings):
    from integrations.deliveries.sender import deliver_chunk

    settings.CELERY_TASK_SOFT_TIME_LIMIT = 0  # budget 0 s: only the first delivery is sent
    rows = request_postings(erp, 3, enqueue=False)
    Delivery.objects.update(enqueued_at=timezone.now())
    assert deliver_chunk([r.pk for r in rows]) == {Outcome.SUCCEEDED: 1, "released": 2}
    assert Delivery.objects.filter(enqueued_at__isnull=True, state=DeliveryState.PENDING).count() == 2
