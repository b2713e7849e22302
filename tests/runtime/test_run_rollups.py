"""Hourly run roll-ups (integrations/runs/rollups): the dashboard's figures read from them
equal the same figures counted live from the run table — over closed hours, the hours not
rolled up yet (the current one included), and hours whose runs changed after they were
rolled up (the database trigger marks them). The job is idempotent and incremental."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from integrations.runs.models import Run
from integrations.runs.rollups import job, read
from integrations.runs.rollups.models import RunChange, RunHour
from integrations.runs.rollups.tally import Tally, duration_key
from tests.ui.test_runs import make_flow, make_run

pytestmark = pytest.mark.django_db


def history(version, hours: int = 80) -> list[Run]:
    """Runs every few hours back over `hours`, of every kind of status and duration, and a
    few in the current hour."""
    statuses = ["succeeded", "failed", "halted", "cancelled", "waiting-approval", "queued", "running"]
    runs = []
    for n in range(0, hours * 60, 97):
        run = make_run(version, statuses[n % len(statuses)], key=f"K-{n}", ago=timedelta(minutes=n + 1))
        Run.objects.filter(pk=run.pk).update(finished_at=run.finished_at and run.started_at + ms(n))
        runs.append(run)
    return runs


def ms(n: int) -> timedelta:
    return timedelta(milliseconds=37 * n + 3)


def starts(now=None):
    now = now or timezone.now()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [midnight - timedelta(days=d) for d in (0, 1, 2, 7, 30)]


def assert_same_as_live():
    for start in starts():
        rolled, live = read.since(start), read.live_since(start)
        assert rolled.days == live.days, start
        assert rolled.whole == live.whole, start


def test_duration_keys_round_up_to_two_significant_digits():
    assert [duration_key(us) for us in (0, -5, 1, 999, 1000, 99_000, 99_001, 100_000, 1_234_500, 61_000_000)] == [
        0, 0, 1, 1, 1, 99, 100, 100, 1300, 61_000,
    ]  # fmt: skip


def test_the_p95_is_the_exact_rank_rounded_up():
    tally = Tally()
    now = timezone.now()
    for n in range(1, 101):  # 10 ms .. 1000 ms
        tally.add("succeeded", now, now + timedelta(milliseconds=10 * n))
    assert tally.percentile_ms(0.95) == 950  # the 95th of 100
    tally.add("succeeded", now, now + timedelta(milliseconds=1234))
    assert tally.percentile_ms(0.95) == 960  # ceil(0.95 * 101) = 96th


def test_rolled_up_figures_equal_the_live_count_including_the_current_hour():
    version = make_flow()[0]
    history(version)
    report = job.roll_up()
    assert report.hours > 0 and RunHour.objects.exists()
    make_run(version, "succeeded", key="NOW", ago=timedelta(seconds=5))  # the current hour, never rolled
    assert_same_as_live()
    assert read.since(starts()[-1]).whole.runs() == Run.objects.count()


def test_a_changed_run_in_a_rolled_hour_is_read_live_until_recounted():
    version = make_flow()[0]
    runs = history(version)
    job.roll_up()
    old = next(r for r in runs if r.status == "failed" and r.created_at < timezone.now() - timedelta(hours=30))
    # What the exception actions do to old runs: skip cancels it, a resent delivery reopens it.
    Run.objects.filter(pk=old.pk).update(status="cancelled")
    waiting = next(r for r in runs if r.status == "succeeded" and r.created_at < timezone.now() - timedelta(hours=40))
    Run.objects.filter(pk=waiting.pk).update(status="waiting-delivery", finished_at=None)
    assert RunChange.objects.count() == 2  # marked by the database, not by the code that changed them
    assert_same_as_live()
    job.roll_up()
    assert not RunChange.objects.exists()
    assert_same_as_live()


def test_runs_moved_into_or_deleted_from_a_rolled_hour_are_counted():
    version = make_flow()[0]
    runs = history(version, hours=30)
    job.roll_up()
    runs[-1].delete()
    make_run(version, "failed", key="LATE", ago=timedelta(hours=20))  # created, then backdated
    assert_same_as_live()
    job.roll_up()
    assert_same_as_live()


def test_the_job_is_idempotent_and_a_rebuild_gives_the_same_rows():
    version = make_flow()[0]
    history(version, hours=50)
    job.roll_up()
    first = sorted(RunHour.objects.values_list("hour", "status", "runs", "timed", "took_us"))
    assert job.roll_up().hours == 0  # nothing new, nothing changed
    job.rebuild()
    assert sorted(RunHour.objects.values_list("hour", "status", "runs", "timed", "took_us")) == first


def test_hours_roll_up_only_once_settled():
    version = make_flow()[0]
    make_run(version, ago=timedelta(minutes=30))
    now = timezone.now()
    assert job.roll_up(now).until == now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - job.SETTLE
    assert not RunHour.objects.filter(hour__gte=job.roll_up(now).until).exists()


def test_a_time_zone_off_the_whole_hour_is_read_live(settings):
    from zoneinfo import ZoneInfo

    india = ZoneInfo("Asia/Kolkata")
    start = datetime(2026, 1, 1, tzinfo=india)
    assert not read.whole_hour_days(start, india)
    assert read.whole_hour_days(datetime(2026, 1, 1, tzinfo=UTC), UTC)
