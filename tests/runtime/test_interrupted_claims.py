"""Claims cut short without a lost worker (integrations/leases.py, docs/RELIABILITY.md §3):
a database error while an attempt records its result, and a warm shutdown (SIGTERM) of the
pool process in the middle of a task. In both the rows come back at once, never through the
lease and the sweeper, so they cost no worker loss and no wait."""

import signal
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from integrations import leases
from integrations.deliveries import dispatcher, ledger, transport
from integrations.deliveries.choices import DeliveryState, Outcome
from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_chunk
from integrations.deliveries.tasks import deliver_deliveries
from integrations.events.services import ingest_event
from integrations.runs import dispatch
from integrations.runs.batch import records
from integrations.runs.choices import RunStatus
from integrations.runs.models import Run, RunChunk, RunException
from integrations.runs.services import execute_run as execute
from integrations.runs.tasks import execute_chunks, execute_run
from tests.reliability.harness import request_postings
from tests.runtime.conftest import publish_flow
from tests.runtime.test_batch_flows import INVOICE_PAGE_FLOW


class Outage:
    """A short outage: the first matching statement once switched on fails as a dropped
    database connection does; the database is back for the next one."""

    def __init__(self, matches):
        self.matches, self.on, self.failed = matches, False, 0

    def __call__(self, execute, sql, params, many, context):
        if self.on and self.matches(sql, params or ()):
            self.on = False
            self.failed += 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


def later(hours: int):
    """The sweeper's view once any lease taken now has run out."""
    return timezone.now() + timedelta(hours=hours)


def recording_success(sql, params) -> bool:
    return sql.startswith("UPDATE") and "deliveries_delivery" in sql and DeliveryState.SUCCEEDED in params


@pytest.fixture
def ring(monkeypatch):
    """Delivery chunks the dispatcher would have sent to the broker."""
    sent = []
    monkeypatch.setattr(dispatcher, "enqueue_chunk", lambda ids, queue: sent.extend(ids))
    return sent


def test_three_database_outages_while_recording_a_posted_delivery_cost_no_worker_loss(erp, sim, ring):
    (delivery,) = request_postings(erp, 1)
    outage = Outage(recording_success)
    with connection.execute_wrapper(outage):
        for n in range(1, 4):
            Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
            outage.on = True
            deliver_deliveries.apply(args=[[delivery.pk]])
            ledger.expire_leases(later(n))  # what the sweeper does once the lease has run out
            delivery.refresh_from_db()
            assert (delivery.state, delivery.db_errors, delivery.worker_losses) == (DeliveryState.PENDING, n, 0)
            assert delivery.needs_lookup and delivery.lease_until is None
    assert outage.failed == 3
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    deliver_deliveries.apply(args=[[delivery.pk]])
    delivery.refresh_from_db()
    # Posted by the first attempt; found by the look-up, not posted again, not dead-lettered.
    assert delivery.state == DeliveryState.SUCCEEDED and delivery.classification == ""
    assert delivery.attempt_log.last().outcome == Outcome.FOUND
    assert sim.posting_count() == 1


def test_a_database_error_during_a_run_gives_the_run_back_without_a_worker_loss(invoice_flow, erp, doorbells):
    ingest_event(source="crm", type="invoice.approved", external_id="evt-1", payload={"id": "INV-1", "amount": 5})
    run = Run.objects.get()
    # The run's fenced outcome write, alone or a batch's (not the claim, an UPDATE … RETURNING
    # without a FROM).
    outage = Outage(
        lambda sql, params: (
            sql.startswith("UPDATE") and '"runs_run"' in sql and ("RETURNING" not in sql or "FROM (VALUES" in sql)
        )
    )
    with connection.execute_wrapper(outage):
        for n in range(1, 4):
            outage.on = True
            execute_run.apply(args=[run.pk])
            dispatch.sweep_expired(later(n))
            run.refresh_from_db()
            assert (run.status, run.db_errors, run.worker_losses) == (RunStatus.QUEUED, n, 0)
            Run.objects.filter(pk=run.pk).update(next_attempt_at=timezone.now())
    assert not RunException.objects.exists()
    execute_run.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.status == RunStatus.WAITING_DELIVERY and run.worker_losses == 0


def test_an_outage_longer_than_the_wait_leaves_the_row_to_its_lease(erp, sim, monkeypatch):
    """If the database does not come back within the task's wait, nothing can be written:
    the row keeps its lease and the sweeper takes it later, as before."""
    (delivery,) = request_postings(erp, 1)
    monkeypatch.setattr(leases, "wait_for_database", lambda seconds, **kw: False)
    outage = Outage(recording_success)
    outage.on = True
    with connection.execute_wrapper(outage), leases.holding():
        deliver_chunk([delivery.pk])
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.IN_FLIGHT and delivery.db_errors == 0


def test_sigterm_during_a_chunk_posts_the_row_in_hand_and_hands_the_rest_back_at_once(
    erp, sim, ring, monkeypatch, django_capture_on_commit_callbacks
):
    deliveries = request_postings(erp, 5)
    real_send = transport.send

    def send_then_sigterm(delivery, connector):
        sent = real_send(delivery, connector)
        leases.on_sigterm(signal.SIGTERM, None)  # arrives while the first posting is in hand
        return sent

    monkeypatch.setattr(transport, "send", send_then_sigterm)
    with django_capture_on_commit_callbacks(execute=True):
        counts = deliver_deliveries.apply(args=[[d.pk for d in deliveries]]).get()
    assert counts == {Outcome.SUCCEEDED: 1, "released": 4}
    assert sim.posting_count() == 1
    rest = Delivery.objects.exclude(state=DeliveryState.SUCCEEDED)
    assert rest.count() == 4 and all(d.state == DeliveryState.PENDING and d.attempts == 0 for d in rest)
    assert sorted(ring) == sorted(d.pk for d in rest)  # enqueued again, not left for the lease


def billiard_exit(signum, frame):
    """What the pool process's own SIGTERM handler does (billiard): exit through SystemExit."""
    raise SystemExit(-(256 - signum))


def test_a_second_sigterm_interrupts_the_attempt_and_gives_the_row_back_with_a_new_fence(erp, sim, monkeypatch):
    monkeypatch.setitem(leases.previous_sigterm_handler, "handler", billiard_exit)
    (delivery,) = request_postings(erp, 1)
    seen = {}

    def sigterm_twice(delivery, connector):
        seen["fence"] = delivery.fence
        leases.on_sigterm(signal.SIGTERM, None)  # the first only asks the task to stop
        leases.on_sigterm(signal.SIGTERM, None)  # the second exits: the process is going
        raise AssertionError("not reached")

    monkeypatch.setattr(transport, "send", sigterm_twice)
    with pytest.raises(SystemExit):
        deliver_deliveries.apply(args=[[delivery.pk]])
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING and delivery.lease_until is None
    assert delivery.fence == seen["fence"] + 1 and delivery.attempts == 0 and delivery.needs_lookup
    assert delivery.worker_losses == 0 and delivery.db_errors == 0
    # The interrupted request may still land at the target: the look-up waits its settle time.
    settle = transport.settle_seconds(erp)
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=settle - 5)
    # The interrupted execution's late write carries the old fence: refused.
    assert not ledger.finish(delivery.pk, seen["fence"], state=DeliveryState.SUCCEEDED)
    assert sim.posting_count() == 0


def test_sigterm_to_an_idle_pool_process_does_what_it_did_before(monkeypatch):
    monkeypatch.setitem(leases.previous_sigterm_handler, "handler", billiard_exit)
    with pytest.raises(SystemExit):
        leases.on_sigterm(signal.SIGTERM, None)
    assert not leases.stop_requested()


def test_a_stop_asked_during_one_task_does_not_carry_over_to_the_next(erp, sim, ring):
    deliveries = request_postings(erp, 2)
    with leases.holding() as held:
        leases.request_stop()
    assert held.stopped and not leases.stop_requested()
    counts = deliver_deliveries.apply(args=[[d.pk for d in deliveries]]).get()
    assert counts == {Outcome.SUCCEEDED: 2}


def test_sigterm_during_a_batch_chunk_hands_the_records_not_run_yet_on_as_a_new_chunk_at_once(
    personas, crm, erp_offline, doorbells, monkeypatch, django_capture_on_commit_callbacks
):
    rung = []
    monkeypatch.setattr("integrations.runs.doorbell.enqueue_chunks", lambda ids: rung.extend(ids))
    publish_flow(personas["analyst"], {**INVOICE_PAGE_FLOW, "for_each": {"path": "$.invoices", "chunk_size": 4}})
    invoices = [{"id": f"INV-{i}", "amount": i} for i in range(4)]
    run = ingest_event(source="crm", type="invoice.page", external_id="page-1", payload={"invoices": invoices}).runs[0]
    execute(run.pk)  # split: one chunk of four records
    (chunk,) = RunChunk.objects.filter(run=run)
    real_run = records.engine_api.run

    def run_then_sigterm(*args, **kwargs):
        outcome = real_run(*args, **kwargs)
        leases.on_sigterm(signal.SIGTERM, None)  # arrives while the first record runs
        return outcome

    monkeypatch.setattr(records.engine_api, "run", run_then_sigterm)
    rung.clear()
    with django_capture_on_commit_callbacks(execute=True):
        execute_chunks.apply(args=[[chunk.pk]])
    chunk.refresh_from_db()
    rest = RunChunk.objects.exclude(pk=chunk.pk).get(run=run)
    assert chunk.status == "done" and len(chunk.records) == 1 and chunk.succeeded == 1
    assert rest.status == "queued" and [r["id"] for r in rest.records] == ["INV-1", "INV-2", "INV-3"]
    assert rung == [rest.pk]  # enqueued at once, not left to the dispatcher or a lease
