"""Batch.failed_count: the records of a batch that did not get through — those whose run
ended before the flush, and every record of the batch while its carrier run has failed."""

import pytest

from integrations.deliveries.models import Delivery
from integrations.runs.inbox import actions as exceptions
from integrations.runs.models import Batch, Run, RunException
from integrations.runs.resume import on_delivery_finished
from integrations.runs.services import execute_run
from tests.runtime.test_batches import approve_hours, time_flow  # noqa: F401

pytestmark = pytest.mark.django_db


def end_delivery(delivery: Delivery, state: str) -> None:
    fields = {"remote_id": "B-1"} if state == "SUCCEEDED" else {"last_error": "422 period closed"}
    Delivery.objects.filter(pk=delivery.pk).update(state=state, classification="permanent", **fields)
    on_delivery_finished(delivery.pk)


def test_a_failed_carrier_fails_every_record_and_a_good_retry_clears_it(time_flow, personas):  # noqa: F811
    approve_hours(3)
    carrier = execute_run(Run.objects.order_by("id").first().pk)
    assert carrier.status == "waiting-delivery"
    assert (Batch.objects.get().done_count, Batch.objects.get().failed_count) == (3, 0)

    end_delivery(Delivery.objects.get(), "DEAD")
    assert Run.objects.get(pk=carrier.pk).status == "failed"
    assert Batch.objects.get().failed_count == 3

    exceptions.retry(RunException.objects.get(), personas["operator"])
    end_delivery(Delivery.objects.get(), "SUCCEEDED")
    assert execute_run(carrier.pk).status == "succeeded"
    assert Batch.objects.get().failed_count == 0


def test_records_whose_run_ended_before_the_flush_count_as_failed(time_flow):  # noqa: F811
    _first, second = approve_hours(2)
    Run.objects.filter(pk=second.pk).update(status="cancelled")
    approve_hours(1, start=2)
    batch = Batch.objects.get()
    assert (batch.status, batch.size, batch.done_count, batch.failed_count) == ("done", 3, 2, 1)
