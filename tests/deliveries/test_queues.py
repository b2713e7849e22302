"""Per-connection delivery queues: routing, chunking by connection, and how workers learn
about the queues (worker start, connection created, re-announced on redispatch)."""

from datetime import timedelta

from django.utils import timezone
from reliability.harness import make_connection, request_postings

from integrations.deliveries import queues
from integrations.deliveries.dispatcher import dispatch_due
from integrations.deliveries.queues import DELIVER_TASK, consume_all, queue_name
from studio.celery import app

from .test_dispatcher import Sent


class Announced(list):
    def __call__(self, connection_ids):
        self.append(sorted(connection_ids))


def routed_queue(name, args=(), options=None) -> str:
    return app.amqp.router.route(options or {}, name, args, {})["queue"].name


def test_each_connection_gets_its_own_queue_and_chunks_never_mix(db, simulator, django_capture_on_commit_callbacks):
    erp, other = make_connection(simulator, "erp"), make_connection(simulator, "other")
    mine, theirs = request_postings(erp, 3), request_postings(other, 2, prefix="x")
    sent = Sent()
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due(send=sent) == 5
    assert sorted(sent) == sorted([([r.pk for r in mine], f"deliveries.{erp.pk}"),
                                   ([r.pk for r in theirs], f"deliveries.{other.pk}")])  # fmt: skip


def test_router_sends_a_delivery_message_to_its_connection_queue(erp):
    row = request_postings(erp, 1)[0]
    assert routed_queue(DELIVER_TASK, args=([row.pk],)) == f"deliveries.{erp.pk}"
    # A sender that names its queue keeps it; the periodic dispatcher rides the control lane.
    assert routed_queue(DELIVER_TASK, args=([row.pk],), options={"queue": "default"}) == "default"
    assert routed_queue("integrations.deliveries.tasks.dispatch_deliveries") == "control"
    assert routed_queue(DELIVER_TASK, args=([10**9],)) == "default"  # no such row


def test_doorbell_of_new_deliveries_goes_to_the_connection_queue(erp, monkeypatch, django_capture_on_commit_callbacks):
    from integrations.deliveries import services

    monkeypatch.setattr(services._buffer, "ids", [], raising=False)  # ids of earlier tests' rolled-back transactions
    sent = Sent()
    monkeypatch.setattr("integrations.deliveries.dispatcher.enqueue_chunk", sent)
    with django_capture_on_commit_callbacks(execute=True):
        rows = request_postings(erp, 2, enqueue=True)
    assert sent == [([r.pk for r in rows], f"deliveries.{erp.pk}")]


def test_worker_start_consumes_every_connection_queue(db, simulator):
    erp, other = make_connection(simulator, "erp"), make_connection(simulator, "other")

    class Consumer:
        added: list[str] = []

        def add_task_queue(self, name):
            self.added.append(name)

    consumer = Consumer()
    assert consume_all(consumer) == [queue_name(erp.pk), queue_name(other.pk)]
    assert consumer.added == [f"deliveries.{erp.pk}", f"deliveries.{other.pk}"]


def test_a_new_connection_is_announced_to_running_workers_after_commit(
    db, simulator, monkeypatch, django_capture_on_commit_callbacks
):
    announced = Announced()
    monkeypatch.setattr(queues, "announce", announced)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        erp = make_connection(simulator, "erp")
    assert announced == []  # not before commit: a rolled-back connection has no queue
    for callback in callbacks:
        callback()
    assert announced == [[erp.pk]]
    erp.save()
    assert announced == [[erp.pk]]  # an update announces nothing new


def test_rows_left_unclaimed_re_announce_their_queue(erp, settings, monkeypatch, django_capture_on_commit_callbacks):
    """If the add_consumer broadcast was lost, the redispatch repeats it: nothing depends on it."""
    settings.SWITCHBOARD_REDISPATCH_SECONDS = 60
    announced = Announced()
    monkeypatch.setattr(queues, "announce", announced)
    request_postings(erp, 2)
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_due(send=Sent())
    assert announced == []  # a first send needs no announcement
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due(now=timezone.now() + timedelta(seconds=61), send=Sent()) == 2
    assert announced == [[erp.pk]]


def test_a_chunk_whose_connection_is_saturated_gives_its_worker_back_at_once(erp, settings):
    """Every concurrency slot taken (a hanging target): the first row waits briefly, the
    rest of the chunk is deferred without waiting — the process serves other queues."""
    import time

    from integrations.deliveries.models import Delivery, ThrottleEvent
    from integrations.deliveries.sender import MAX_SLOT_WAIT, deliver_chunk
    from integrations.deliveries.throttle import DatabaseThrottle

    erp.max_concurrency = 1
    erp.save()
    DatabaseThrottle().acquire(erp)  # the one slot, held by a send that hangs elsewhere
    rows = request_postings(erp, 20)
    before, started = timezone.now(), time.monotonic()
    assert deliver_chunk([r.pk for r in rows]) == {"throttled": 20}
    assert time.monotonic() - started < MAX_SLOT_WAIT + 0.5  # not 20 waits
    assert not Delivery.objects.filter(enqueued_at__isnull=False).exists()  # the dispatcher re-sends them
    assert Delivery.objects.filter(next_attempt_at__gt=before).count() == 20  # deferred, each
    assert ThrottleEvent.objects.filter(connection=erp).count() == 20
