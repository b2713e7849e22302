"""ThrottleEvent rows older than the 24-hour usage window are pruned, by a beat job."""

from datetime import timedelta

from django.utils import timezone
from reliability.harness import make_connection

from integrations.deliveries.models import ThrottleEvent
from integrations.deliveries.queries import usage_last_24h
from integrations.deliveries.retention import prune_throttle_events
from integrations.health import schedules


def events(connection, *ages: timedelta) -> None:
    now = timezone.now()
    for age in ages:
        event = ThrottleEvent.objects.create(connection=connection)
        ThrottleEvent.objects.filter(pk=event.pk).update(at=now - age)  # `at` is auto_now_add


def test_events_past_the_usage_window_are_deleted_recent_ones_kept(db, simulator, monkeypatch):
    erp, other = make_connection(simulator, "erp"), make_connection(simulator, "other")
    events(erp, timedelta(hours=1), timedelta(hours=23), timedelta(hours=25), timedelta(days=40))
    events(other, *[timedelta(days=2)] * 7)
    monkeypatch.setattr("integrations.deliveries.retention.BATCH", 3)  # several batches
    before = usage_last_24h(erp)["throttled"]

    assert prune_throttle_events() == 9
    assert ThrottleEvent.objects.filter(connection=erp).count() == 2
    assert not ThrottleEvent.objects.filter(connection=other).exists()
    assert usage_last_24h(erp)["throttled"] == before == 2  # the page's figures are unchanged
    assert prune_throttle_events() == 0


def test_pruning_is_a_registered_beat_job(db):
    declared = {p.task: p.seconds for p in schedules.declared()}
    assert declared["integrations.deliveries.tasks.prune_throttle_events"] == 3600
