"""The dispatcher: due rows only, oldest first, held connections skipped, budgets, redispatch."""

from datetime import timedelta

from django.utils import timezone
from reliability.harness import make_connection, request_postings

from integrations.connections.models import MaintenanceWindow
from integrations.deliveries import ledger
from integrations.deliveries.dispatcher import dispatch_due, sweep_expired
from integrations.deliveries.holds import pause_connection, resume_connection
from integrations.deliveries.models import Delivery


class Sent(list):
    def __call__(self, ids, queue):
        self.append((list(ids), queue))

    @property
    def ids(self):
        return [i for ids, _ in self for i in ids]


def test_due_rows_go_out_oldest_first_in_chunks_and_once(erp, django_capture_on_commit_callbacks):
    rows = request_postings(erp, 250)
    Delivery.objects.filter(pk=rows[5].pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    sent = Sent()
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due(send=sent) == 249
    assert [len(ids) for ids, _ in sent] == [100, 100, 49]
    assert sent.ids == [r.pk for r in rows if r.pk != rows[5].pk]
    assert {queue for _, queue in sent} == {f"deliveries.{erp.pk}"}
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due(send=sent) == 0  # enqueued, not yet stale


def test_rows_whose_message_was_lost_are_enqueued_again(erp, settings, django_capture_on_commit_callbacks):
    settings.SWITCHBOARD_REDISPATCH_SECONDS = 60
    request_postings(erp, 3)
    sent = Sent()
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_due(send=sent)
    later = timezone.now() + timedelta(seconds=61)
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due(now=later, send=sent) == 3


def test_held_connections_are_skipped_until_resumed(erp, simulator, settings, django_capture_on_commit_callbacks):
    settings.SWITCHBOARD_REDISPATCH_SECONDS = 3600
    other = make_connection(simulator, name="other")
    request_postings(erp, 2)
    request_postings(other, 2, prefix="o")
    pause_connection(erp, None, "upgrade")
    now = timezone.now()
    MaintenanceWindow.objects.create(
        connection=other, kind="one_off", starts_at=now, ends_at=now + timedelta(minutes=5)
    )
    sent = Sent()
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due(send=sent) == 0
    resume_connection(erp, None)
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due(send=sent) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due(now=now + timedelta(minutes=6), send=sent) == 2


def test_a_rate_limited_connection_gets_what_its_limit_can_send(erp, django_capture_on_commit_callbacks):
    erp.rate_limit_requests, erp.rate_limit_interval_seconds = 10, 1
    erp.save()
    rows = request_postings(erp, 50)
    sent = Sent()
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due(send=sent) == 10
    assert sent.ids == [r.pk for r in rows[:10]]
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due(send=sent) == 0  # ten outstanding already


def test_failed_enqueue_releases_the_rows(erp, django_capture_on_commit_callbacks):
    request_postings(erp, 2)

    def broken(ids, queue):
        raise ConnectionError("broker down")

    with django_capture_on_commit_callbacks(execute=True):
        dispatch_due(send=broken)
    assert not Delivery.objects.filter(enqueued_at__isnull=False).exists()


def test_sweeper_returns_expired_claims(erp):
    (delivery,) = request_postings(erp, 1)
    ledger.claim(delivery.pk)
    assert sweep_expired() == 0
    assert sweep_expired(now=timezone.now() + timedelta(hours=1)) == 1
