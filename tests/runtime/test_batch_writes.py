"""A worker's batch writes together (integrations/runs/outcomes.py `apply_many`, deliveries/
sender.py `deliver_round`): the outcomes of its runs in one transaction, its deliveries
claimed together and their successes recorded together — each row still fenced on its own,
so a run or delivery another execution took since is left alone, and nothing claimed and
not sent is left in flight."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations import leases
from integrations.deliveries import sender
from integrations.deliveries.choices import DeliveryState
from integrations.deliveries.models import Delivery, DeliveryAttempt, ThrottleEvent
from integrations.events.services import ingest_event
from integrations.runs import claims, worker
from integrations.runs.choices import RunStatus
from integrations.runs.models import Run, StepRun
from tests.reliability.harness import request_postings

pytestmark = pytest.mark.django_db(transaction=True)  # the ledger's hooks fire after real commits


def invoices(count: int, prefix: str = "e") -> list[int]:
    ids = []
    for i in range(count):
        event = ingest_event(
            source="crm", type="invoice.approved", external_id=f"{prefix}-{i}", payload={"id": f"I-{i}", "amount": i}
        )
        ids += [run.pk for run in event.runs]
    return ids


def test_a_batch_of_one_event_runs_is_delivered_and_finished_with_a_few_statements_per_run(invoice_flow, erp, sim):
    ids = invoices(20)
    with CaptureQueriesContext(connection) as queries, leases.holding():
        assert worker.execute_lane("default", limit=20) == 20
    assert set(Run.objects.filter(pk__in=ids).values_list("status", flat=True)) == {RunStatus.SUCCEEDED}
    assert Delivery.objects.filter(state=DeliveryState.SUCCEEDED).count() == 20
    assert sorted(p["external_ref"] for p in sim.postings()) == sorted(f"I-{i}" for i in range(20))
    assert DeliveryAttempt.objects.filter(outcome="succeeded").count() == 20
    assert StepRun.objects.filter(run_id__in=ids).count() == 20 * 3  # map + deliver, then deliver resumed
    # Per batch or per slice of ten deliveries, not per run (40 here); one at a time this took
    # about 20 statements a run.
    assert len(queries) <= 50, [q["sql"][:80] for q in queries.captured_queries]


def test_a_run_another_execution_took_is_left_alone_by_its_batchs_write(invoice_flow, erp_offline):
    ids = invoices(3)
    batch = claims.claim_batch("default", 10)
    assert [run.pk for run in batch] == ids
    Run.objects.filter(pk=ids[1]).update(fence=99)  # claimed again elsewhere since
    with leases.holding():
        waiting = worker.execute_each(batch, budget_end=float("inf"))
    assert [run.pk for run in waiting] == [ids[0], ids[2]]
    statuses = dict(Run.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses == {ids[0]: "waiting-delivery", ids[1]: "running", ids[2]: "waiting-delivery"}
    assert not StepRun.objects.filter(run_id=ids[1]).exists()  # nothing of the stale execution
    assert StepRun.objects.filter(run_id=ids[0]).count() == 2


def test_a_retried_run_that_succeeds_in_a_batch_still_resolves_its_exception(invoice_flow, erp_offline):
    [run_id] = invoices(1)
    Run.objects.filter(pk=run_id).update(error={"kind": "delivery", "message": "earlier"})
    batch = claims.claim_batch("default", 10)
    with leases.holding():
        worker.execute_each(batch, budget_end=float("inf"))
    run = Run.objects.get(pk=run_id)
    assert run.status == "waiting-delivery" and run.error == {"kind": "delivery", "message": "earlier"}


def test_deliveries_claimed_for_a_round_and_not_sent_go_back_due_not_in_flight(erp, sim):
    rows = request_postings(erp, 5)
    here = list(Delivery.objects.select_related("connection").filter(pk__in=[d.pk for d in rows]).order_by("id"))
    chunk = sender.Chunk()
    with leases.holding():
        attempted = sender.deliver_round(here, chunk, seconds=0.0)  # time for one only
    chunk.close()
    assert attempted == {rows[0].pk}
    states = dict(Delivery.objects.filter(pk__in=[d.pk for d in rows]).values_list("pk", "state"))
    assert states[rows[0].pk] == DeliveryState.SUCCEEDED
    back = Delivery.objects.filter(pk__in=[d.pk for d in rows[1:]])
    assert set(back.values_list("state", "attempts", "lease_until", "enqueued_at")) == {
        (DeliveryState.PENDING, 0, None, None)
    }
    assert all(d.next_attempt_at <= timezone.now() for d in back)  # due now, for their queue
    assert len(sim.postings()) == 1


def test_a_failing_target_gets_no_more_of_the_round_and_the_rest_is_left_due(erp, sim):
    rows = request_postings(erp, 4)
    sim.config(script={rows[0].external_id: ["503"]})
    here = list(Delivery.objects.select_related("connection").filter(pk__in=[d.pk for d in rows]).order_by("id"))
    chunk = sender.Chunk()
    with leases.holding():
        attempted = sender.deliver_round(here, chunk, seconds=5.0)
    chunk.close()
    assert attempted == {rows[0].pk}
    first = Delivery.objects.get(pk=rows[0].pk)
    assert first.state == DeliveryState.FAILED_RETRYABLE and first.last_status_code == 503
    rest = Delivery.objects.filter(pk__in=[d.pk for d in rows[1:]])
    assert set(rest.values_list("state", "attempts")) == {(DeliveryState.PENDING, 0)}
    assert sim.postings() == []


def test_a_run_asking_for_a_delivery_another_run_already_made_posts_nothing_twice(invoice_flow, erp, sim):
    [first] = invoices(1, "a")
    with leases.holding():
        worker.execute_lane("default", limit=10)
    assert Run.objects.get(pk=first).status == RunStatus.SUCCEEDED
    # The same invoice in another event: the same delivery key, found done in the ledger.
    [second] = invoices(1, "b")
    with leases.holding():
        worker.execute_lane("default", limit=10)
    run = Run.objects.get(pk=second)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert Delivery.objects.count() == 1 and len(sim.postings()) == 1


def test_a_run_asking_for_a_delivery_that_is_dead_fails_with_an_exception(invoice_flow, erp_offline):
    invoices(1, "a")
    with leases.holding():
        worker.execute_each(claims.claim_batch("default", 10), budget_end=float("inf"))
    Delivery.objects.update(state=DeliveryState.DEAD, last_error="rejected: 422")
    [second] = invoices(1, "b")
    with leases.holding():
        worker.execute_each(claims.claim_batch("default", 10), budget_end=float("inf"))
    run = Run.objects.get(pk=second)
    assert run.status == RunStatus.FAILED and "dead" in run.error["message"], run.error
    assert run.exceptions.count() == 1


def test_a_round_keeps_to_its_connections_rate_limit_and_gives_the_rest_back(erp, sim):
    erp.rate_limit_requests, erp.rate_limit_interval_seconds = 20, 60  # bursts of 2
    erp.save()
    rows = request_postings(erp, 5, prefix="rl")
    here = list(Delivery.objects.select_related("connection").filter(pk__in=[d.pk for d in rows]).order_by("id"))
    chunk = sender.Chunk()
    with leases.holding():
        attempted = sender.deliver_round(here, chunk, seconds=5.0)
    chunk.close()
    assert len(attempted) == 2 and len(sim.postings()) == 2
    left = Delivery.objects.exclude(pk__in=attempted)
    assert set(left.values_list("state", "attempts", "lease_until")) == {(DeliveryState.PENDING, 0, None)}
    assert ThrottleEvent.objects.filter(connection=erp).exists()  # shown on the connection's page, as deferrals are
