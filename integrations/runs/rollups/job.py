"""The roll-up job (every minute, from beat): counts each closed hour of run creation once,
and again whenever a run of a counted hour changed (the trigger's marks). Incremental,
idempotent and safe to run twice at once: an hour is always recounted whole from the run
table, and the job holds the one RolledUntil row while it works.

An hour is rolled up once it ended SETTLE ago. The trigger marks changes to runs created
more than MARKED_AFTER ago; the hour between the two covers a transaction that began before
its run's hour was rolled and commits after the job counted it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.runs.models import Run
from integrations.runs.rollups.models import RolledUntil, RunChange, RunHour, RunHourDuration
from integrations.runs.rollups.tally import COLUMNS, HOUR, floor_hour, tally_by

SETTLE = timedelta(hours=2)
MARKED_AFTER = timedelta(hours=1)  # the trigger's horizon (migrations/0001_initial.py)
MARKS_PER_PASS = 10_000  # their ids go in one IN list (SQLite allows 32,766 parameters)
RANGES_PER_QUERY = 200


@dataclass
class Report:
    hours: int  # hours counted (new or recounted)
    until: datetime | None


def roll_up(now: datetime | None = None) -> Report:
    target = floor_hour(now or timezone.now()) - SETTLE
    with transaction.atomic():
        state = _state()
        marks = list(RunChange.objects.order_by("id").values_list("id", "created_at")[:MARKS_PER_PASS])
        start = state.until or _first_hour()
        hours = {floor_hour(created) for _, created in marks if floor_hour(created) < min(start or target, target)}
        new = (start, target) if start is not None and start < target else None
        count(_ranges(sorted(hours)) + ([new] if new else []))
        RunChange.objects.filter(id__in=[pk for pk, _ in marks]).delete()
        if state.until is None or state.until < target:
            state.until = target
            state.save(update_fields=["until"])
    return Report(len(hours) + (int((new[1] - new[0]) / HOUR) if new else 0), state.until)


def rebuild() -> Report:
    """Forget every roll-up and count the whole run table again (after a bulk load)."""
    with transaction.atomic():
        state = _state()
        RunHour.objects.all().delete()
        RunHourDuration.objects.all().delete()
        RunChange.objects.all().delete()
        state.until = None
        state.save(update_fields=["until"])
    return roll_up()


def _state() -> RolledUntil:
    state = RolledUntil.objects.select_for_update().filter(pk=1).first()
    if state is None:
        RolledUntil.objects.get_or_create(pk=1, defaults={"until": None})
        state = RolledUntil.objects.select_for_update().get(pk=1)
    return state


def _first_hour() -> datetime | None:
    first = Run.objects.order_by("created_at").values_list("created_at", flat=True).first()
    return floor_hour(first) if first else None


def _ranges(hours: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Consecutive hours joined: [(start, end)]."""
    ranges: list[tuple[datetime, datetime]] = []
    for hour in hours:
        if ranges and ranges[-1][1] == hour:
            ranges[-1] = (ranges[-1][0], hour + HOUR)
        else:
            ranges.append((hour, hour + HOUR))
    return ranges


def count(ranges: list[tuple[datetime, datetime]]) -> None:
    """Replace the roll-ups of these hour ranges by a fresh count of their runs."""
    for n in range(0, len(ranges), RANGES_PER_QUERY):
        chunk = ranges[n : n + RANGES_PER_QUERY]
        within = Q()
        for start, end in chunk:
            within |= Q(created_at__gte=start, created_at__lt=end)
        rows = Run.objects.filter(within).order_by().values_list(*COLUMNS).iterator(chunk_size=10_000)
        tallies = tally_by(rows, floor_hour)
        RunHour.objects.filter(within_hours(chunk)).delete()
        RunHourDuration.objects.filter(within_hours(chunk)).delete()
        RunHour.objects.bulk_create(
            [
                RunHour(hour=hour, status=status, runs=s.runs, timed=s.timed, took_us=s.took_us)
                for hour, tally in tallies.items()
                for status, s in tally.statuses.items()
            ],
            batch_size=5000,
        )
        RunHourDuration.objects.bulk_create(
            [
                RunHourDuration(hour=hour, ms=ms, runs=n)
                for hour, tally in tallies.items()
                for ms, n in tally.durations.items()
            ],
            batch_size=5000,
        )


def within_hours(ranges: list[tuple[datetime, datetime]]) -> Q:
    within = Q()
    for start, end in ranges:
        within |= Q(hour__gte=start, hour__lt=end)
    return within
