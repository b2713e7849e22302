"""Retention of held writes: a write released more than a week ago goes (its delivery stays in
the ledger), a write still owed stays however old, and deleting a released one never sends
its write twice. Grouped records are the exactly-once guard of a batch flow and stay."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.connections.models import Connection
from integrations.deliveries.models import Delivery
from integrations.runs.batch import held, retention
from integrations.runs.batch.held import HeldWrite
from integrations.runs.models import HeldDelivery, Run
from tests.runtime.conftest import publish_flow

pytestmark = pytest.mark.django_db

FLOW = {"trigger": {"type": "manual"}, "steps": [{"id": "m", "type": "map", "fields": [{"to": "a", "from": "$.a"}]}]}


@pytest.fixture
def run(personas, erp_offline):
    flow = publish_flow(personas["analyst"], FLOW, key="held")
    return Run.objects.create(flow_version=flow.live_version, trigger="manual", input={})


def held_row(run, key: str, *, released_days_ago: float | None, created_days_ago: float = 30) -> None:
    """A write-back held after its bill `bill-<key>`, released that many days ago (None: still owed)."""
    now = timezone.now()
    row = HeldDelivery.objects.create(
        run=run, step_id="writeback", after_key=f"bill-{key}", key=key, connection=erp(), object="time_entries",
        action="update", payload={"billed": True}, external_id=key)  # fmt: skip
    released = None if released_days_ago is None else now - timedelta(days=released_days_ago)
    HeldDelivery.objects.filter(pk=row.pk).update(created_at=now - timedelta(days=created_days_ago),
                                                  released_at=released)  # fmt: skip


def erp() -> Connection:
    return Connection.objects.get(name="erp")


def keys() -> list[str]:
    return sorted(HeldDelivery.objects.values_list("key", flat=True))


def test_released_writes_older_than_the_retention_go_and_writes_still_owed_stay(run):
    held_row(run, "old-released", released_days_ago=8)
    held_row(run, "recent-released", released_days_ago=6)
    held_row(run, "owed-for-a-month", released_days_ago=None, created_days_ago=30)
    held_row(run, "owed-today", released_days_ago=None, created_days_ago=0)
    assert retention.prune_released_holds() == 1
    assert keys() == ["owed-for-a-month", "owed-today", "recent-released"]
    # a week later the other released one goes too; what is owed never does
    assert retention.prune_released_holds(now=timezone.now() + timedelta(days=2)) == 1
    assert retention.prune_released_holds(now=timezone.now() + timedelta(days=400)) == 0
    assert keys() == ["owed-for-a-month", "owed-today"]


def test_a_prune_deletes_in_batches_oldest_first(run):
    for n in range(5):
        held_row(run, f"k{n}", released_days_ago=10 + n)
    assert retention.prune_released_holds(limit=2) == 2
    assert keys() == ["k0", "k1", "k2"]  # the rows released longest ago go first


def test_the_periodic_catch_up_prunes_at_most_every_ten_minutes_per_process(run, monkeypatch):
    monkeypatch.setattr(retention.PRUNE_CLOCK, "last", float("-inf"))
    held_row(run, "a", released_days_ago=8)
    held.release_due()
    assert keys() == []
    held_row(run, "b", released_days_ago=8)
    held.release_due()  # the next pass, 30 s later: not due yet
    assert keys() == ["b"]
    monkeypatch.setattr(retention.PRUNE_CLOCK, "last", retention.PRUNE_CLOCK.last - 600)
    held.release_due()
    assert keys() == []


def test_a_pruned_write_held_again_is_not_requested_twice(run):
    """A group retried after its write-back was delivered and its held row pruned holds the
    write again: it is released at once (its bill is posted) and the ledger, finding the key,
    requests nothing new."""
    for key in ("bill-k", "k"):
        Delivery.objects.create(run=run, step_id="s", connection=erp(), object="o", action="update",
                                idempotency_key=key, state="SUCCEEDED")  # fmt: skip
    again = HeldWrite(connection="erp", object="time_entries", action="update", key="k", payload={"billed": True},
                      external_id_field=None, external_id="k")  # fmt: skip
    held.hold(run, {"erp": erp()}, [("writeback", Held(**vars(again), after="bill-k"))])
    assert HeldDelivery.objects.get(key="k").released_at is not None
    assert list(Delivery.objects.filter(idempotency_key="k").values_list("object", flat=True)) == ["o"]


@dataclass(frozen=True)
class Held(HeldWrite):
    after: str = ""
