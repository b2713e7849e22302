"""Batch claims (integrations/runs/claims.py, worker.py): one message claims a batch of its
lane's due runs, fairly across flows, each with its own lease and fence, and a worker sends
a one-event run's delivery and finishes the run in the same task."""

import pytest
from django.utils import timezone

from integrations import leases
from integrations.deliveries.models import Delivery
from integrations.events.services import ingest_event
from integrations.flows.services import create_flow, publish
from integrations.runs import claims, doorbell, tasks, worker
from integrations.runs.choices import RunStatus, Trigger
from integrations.runs.models import Run
from integrations.runs.services import create_run
from tests.runtime.lane_driver import FLOW

pytestmark = pytest.mark.django_db


def version_of(key: str):
    return publish(create_flow("system:test", key=key, name=key.title(), definition=FLOW), "system:test")


def poll_runs(version, count: int, prefix: str) -> list[int]:
    return [
        create_run(version, trigger=Trigger.POLL, record={"id": f"{prefix}{i}", "amount": i}).pk for i in range(count)
    ]


def test_a_flow_with_thousands_queued_delays_another_flows_run_by_at_most_one_batch(crm, doorbells):
    busy, quiet = version_of("busy"), version_of("quiet")
    poll_runs(busy, 300, "b")
    [late] = poll_runs(quiet, 1, "q")  # queued after all of them
    first = claims.claim_batch("bulk", 20)
    assert len(first) == 20
    assert late in [run.pk for run in first]  # not behind the other flow's 300
    assert sum(run.flow_version_id == busy.pk for run in first) == 19
    assert Run.objects.filter(status=RunStatus.RUNNING).count() == 20


def test_a_batch_claim_takes_only_its_lane_and_only_due_runs(crm, doorbells):
    version = version_of("lanes")
    polled = poll_runs(version, 3, "p")
    manual = create_run(version, trigger=Trigger.MANUAL, record={"id": "m", "amount": 1}).pk
    Run.objects.filter(pk=polled[0]).update(next_attempt_at=timezone.now() + timezone.timedelta(minutes=5))
    assert [run.pk for run in claims.claim_batch("default", 50)] == [manual]
    assert sorted(run.pk for run in claims.claim_batch("bulk", 50)) == polled[1:]
    assert claims.claim_batch("bulk", 50) == []  # nothing due left: a duplicate message claims nothing


def test_each_run_of_a_batch_keeps_its_own_fence_and_lease(crm, doorbells):
    version = version_of("fences")
    ids = poll_runs(version, 3, "f")
    Run.objects.filter(pk=ids[1]).update(fence=7)
    claimed = {run.pk: run for run in claims.claim_batch("bulk", 10)}
    assert {pk: run.fence for pk, run in claimed.items()} == {ids[0]: 1, ids[1]: 8, ids[2]: 1}
    assert all(run.attempts == 1 and run.lease_until > timezone.now() for run in claimed.values())
    assert all(run.started_at is not None and run.lane == "default" for run in claimed.values())


@pytest.mark.django_db(transaction=True)  # the ledger's hooks fire after real commits, as in a worker
def test_a_one_event_run_is_delivered_and_finished_in_the_task_that_ran_it(invoice_flow, erp, sim, doorbells):
    result = ingest_event(source="crm", type="invoice.approved", external_id="e-1", payload={"id": "I-1", "amount": 3})
    [run] = result.runs
    assert run.lane == "default"
    doorbells["runs"].clear()
    tasks.execute_runs.apply(args=[[run.pk], "default"])
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert Delivery.objects.get().state == "SUCCEEDED"
    assert [p["external_ref"] for p in sim.postings()] == ["I-1"]
    assert doorbells["runs"] == []  # no second trip through the queue for the resumption


def test_a_stopping_worker_hands_back_the_runs_of_its_batch_it_has_not_started(crm, doorbells, monkeypatch):
    version = version_of("stopping")
    ids = poll_runs(version, 5, "s")
    executed = []

    def execute_one(run):
        executed.append(run.pk)
        leases.request_stop()  # SIGTERM arrives while the first run executes
        return None

    monkeypatch.setattr(worker.services, "run_engine", execute_one)
    with leases.holding() as held:
        assert worker.execute_lane("bulk", limit=5) == 5
    assert executed == ids[:1] and held.stopped
    back = Run.objects.filter(pk__in=ids[1:])
    assert sorted(held.released_ids(Run)) == ids[1:]
    assert set(back.values_list("status", "attempts", "fence", "lease_until")) == {(RunStatus.QUEUED, 0, 2, None)}


def test_doorbells_ring_once_per_batch_of_a_lane(crm, monkeypatch):
    version = version_of("bells")
    sent = []
    monkeypatch.setattr(doorbell, "_send", lambda task, args, **options: sent.append((task, args, options["queue"])))
    monkeypatch.setattr(claims, "DEFAULT_BATCH", 50)
    polled = [create_run(version, trigger=Trigger.POLL, record={"id": i, "amount": i}).pk for i in range(120)]
    manual = create_run(version, trigger=Trigger.MANUAL, record={"id": "m", "amount": 1}).pk
    sent.clear()
    doorbell.enqueue_runs([*polled, manual])
    assert [(args[1], len(args[0]), queue) for _task, args, queue in sent] == [
        ("bulk", 50, "bulk"),
        ("bulk", 50, "bulk"),
        ("bulk", 20, "bulk"),
        ("default", 1, "default"),
    ]
    assert not Run.objects.filter(enqueued_at__isnull=True).exists()


def test_a_message_whose_batch_had_no_room_rings_again_for_the_rest(crm, doorbells, monkeypatch):
    version = version_of("pages")
    page = poll_runs(version, 12, "r")
    monkeypatch.setattr(worker, "batch_limit", lambda: 5)  # a batch sized by time took five
    assert tasks.execute_runs.apply(args=(page, "bulk")).get() == 5
    assert Run.objects.filter(pk__in=page, status=RunStatus.SUCCEEDED).count() == 5
    # The seven it named and had no room for are rung at once, not after the redispatch interval.
    assert sorted(doorbells["runs"]) == sorted(
        Run.objects.filter(pk__in=page, status=RunStatus.QUEUED).values_list("pk", flat=True)
    )
    assert len(doorbells["runs"]) == 7


def test_a_message_whose_runs_were_taken_already_still_claims_its_lanes_due_runs(crm, doorbells):
    version = version_of("late")
    [taken] = poll_runs(version, 1, "t")
    others = poll_runs(version, 3, "o")
    claims.claim_ids([taken])  # an earlier batch took it
    # The others' rings may have coalesced onto this message (doorbell.py): it claims them.
    assert tasks.execute_runs.apply(args=([taken], "bulk")).get() == 3
    assert Run.objects.filter(pk__in=others, status=RunStatus.QUEUED).count() == 0


@pytest.fixture
def queue_messages(monkeypatch):
    """Delivery ids sent to connection queues (the ledger's Celery messages), per message."""
    sent: list[list[int]] = []
    monkeypatch.setattr("integrations.deliveries.dispatcher.enqueue_chunk", lambda ids, queue: sent.append(list(ids)))
    return sent


def invoices(count: int) -> list[int]:
    return [
        ingest_event(source="crm", type="invoice.approved", external_id=f"e-{i}", payload={"id": f"I-{i}", "amount": i})
        .runs[0]
        .pk
        for i in range(count)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_delivery_the_worker_sends_itself_rings_no_queue(invoice_flow, erp, sim, doorbells, queue_messages):
    ids = invoices(3)
    queue_messages.clear()
    tasks.execute_runs.apply(args=[ids, "default"])
    assert set(Run.objects.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}
    assert sorted(p["external_ref"] for p in sim.postings()) == ["I-0", "I-1", "I-2"]
    # Requested, sent and finished here: no message for its queue, held or flushed.
    assert queue_messages == [] and doorbells["deliveries"] == []


@pytest.mark.django_db(transaction=True)
def test_a_delivery_the_worker_does_not_send_is_rung_for_on_its_queue(
    invoice_flow, erp, sim, doorbells, queue_messages
):
    erp.circuit_failures = 1  # failing lately: its deliveries keep to its own queue
    erp.save(update_fields=["circuit_failures"])
    [run_id] = invoices(1)
    queue_messages.clear()
    tasks.execute_runs.apply(args=[[run_id], "default"])
    delivery = Delivery.objects.get()
    assert (Run.objects.get().status, delivery.state) == (RunStatus.WAITING_DELIVERY, "PENDING")
    assert delivery.enqueued_at is not None and queue_messages == [[delivery.pk]]
    assert sim.postings() == []


@pytest.mark.django_db(transaction=True)
def test_after_a_failed_attempt_the_rest_of_that_connections_rows_go_to_its_queue(
    invoice_flow, erp, sim, doorbells, queue_messages
):
    sim.config(script={"I-0": ["503"]})
    ids = invoices(3)
    queue_messages.clear()
    tasks.execute_runs.apply(args=[ids, "default"])
    first, *rest = Delivery.objects.order_by("id")
    assert (first.state, first.attempts) == ("FAILED_RETRYABLE", 1)  # tried once here; the ledger retries it
    assert all(d.state == "PENDING" and d.attempts == 0 for d in rest)  # not tried after the failure
    assert queue_messages == [[d.pk for d in rest]]
    assert sim.postings() == []
