"""Batch steps: records collect per group key; a full or old batch flushes exactly once and
ONE run carries every record on to a single delivery."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.deliveries.models import Delivery
from integrations.events.services import ingest_event
from integrations.runs.batch.collect import flush, flush_due
from integrations.runs.models import Batch, Run
from integrations.runs.services import execute_run
from tests.runtime.conftest import publish_flow

pytestmark = pytest.mark.django_db

TIME_FLOW = {
    "trigger": {"type": "event", "connection": "crm", "event": "time.approved"},
    "steps": [
        {"id": "collect", "type": "batch", "group_key": "{{ record.project }}", "size": 3, "max_wait_seconds": 3600},
        {
            "id": "bill",
            "type": "deliver",
            "connection": "erp",
            "object": "time_bills",
            "action": "create",
            "key": "bill:{{ record.group_key }}:{{ record.batch_id }}",
        },
    ],
}


@pytest.fixture
def time_flow(personas, crm, erp_offline, doorbells):
    return publish_flow(personas["analyst"], TIME_FLOW, key="time")


def approve_hours(n, project="P1", start=0):
    runs = []
    for i in range(start, start + n):
        result = ingest_event(
            source="crm",
            type="time.approved",
            external_id=f"t{project}{i}",
            payload={"project": project, "hours": i + 1},
        )
        runs.append(execute_run(result.runs[0].pk))
    return runs


def test_a_full_batch_flushes_once_into_one_delivery(time_flow):
    first_two = approve_hours(2)
    assert [r.status for r in first_two] == ["waiting-batch", "waiting-batch"]
    assert Batch.objects.get().status == "open"
    approve_hours(1, start=2)
    batch = Batch.objects.get()
    assert (batch.status, batch.size, batch.done_count) == ("done", 3, 3)
    assert flush(batch.pk) is False  # completion happens once
    finished = [execute_run(r.pk) for r in Run.objects.order_by("id")]
    assert [r.status for r in finished] == ["waiting-delivery", "succeeded", "succeeded"]
    delivery = Delivery.objects.get()
    assert delivery.idempotency_key == f"bill:P1:{batch.pk}"
    assert delivery.payload["count"] == 3 and [r["hours"] for r in delivery.payload["records"]] == [1, 2, 3]


def test_groups_are_separate_and_an_old_batch_flushes_by_time(time_flow):
    approve_hours(1, "P1")
    approve_hours(1, "P2")
    assert Batch.objects.filter(status="open").count() == 2
    assert flush_due() == 0
    assert flush_due(timezone.now() + timedelta(hours=2)) == 2
    runs = [execute_run(r.pk) for r in Run.objects.order_by("id")]
    assert [r.status for r in runs] == ["waiting-delivery", "waiting-delivery"]
    assert sorted(d.payload["count"] for d in Delivery.objects.all()) == [1, 1]
