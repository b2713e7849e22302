"""The runs created since a moment, tallied per local day: closed hours from the roll-ups,
the rest live (the hours not rolled up yet, and rolled hours a change was marked in since).
`live_since` tallies every run itself; `since` must always give the same figures.

Hours map onto days only where local midnights fall on whole UTC hours; in a time zone
whose offset is not whole hours, or before the job first ran, everything is read live."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from django.db.models import Q, Sum
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from integrations.runs.models import Run
from integrations.runs.rollups.models import RolledUntil, RunChange, RunHour, RunHourDuration
from integrations.runs.rollups.tally import COLUMNS, HOUR, Tally, floor_hour, tally_by


@dataclass
class Figures:
    days: dict[date, Tally] = field(default_factory=dict)
    whole: Tally = field(default_factory=Tally)  # the window in one tally (its histogram too)

    def merge_day(self, day: date, tally: Tally) -> None:
        mine = self.days.setdefault(day, Tally())
        for status, slot in tally.statuses.items():
            mine.add_slot(status, slot.runs, slot.timed, slot.took_us)
            self.whole.add_slot(status, slot.runs, slot.timed, slot.took_us)
        self.whole.durations.update(tally.durations)


def live_since(start: datetime, tz: tzinfo | None = None) -> Figures:
    """Every run created since `start`, read from the run table."""
    return _live(Q(created_at__gte=start), tz or timezone.get_current_timezone())


def since(start: datetime, tz: tzinfo | None = None, durations: bool = True) -> Figures:
    """`durations=False`: the window's histogram may stay incomplete (a per-day panel)."""
    tz = tz or timezone.get_current_timezone()
    until = RolledUntil.objects.filter(pk=1).values_list("until", flat=True).first()
    if until is None or until <= start or not whole_hour_days(start, tz):
        return live_since(start, tz)
    changed = sorted(
        RunChange.objects.filter(created_at__gte=start, created_at__lt=until)
        .annotate(hour=TruncHour("created_at", tzinfo=UTC))
        .values_list("hour", flat=True)
        .distinct()
    )
    found = _live(Q(created_at__gte=until) | _within(changed), tz)
    rolled = Q(hour__gte=start, hour__lt=until)
    if changed:
        rolled &= ~Q(hour__in=changed)
    day = TruncDate("hour", tzinfo=tz)
    per_day: dict[date, Tally] = {}
    slots = RunHour.objects.filter(rolled).annotate(day=day).values("day", "status")
    for r in slots.annotate(runs_=Sum("runs"), timed_=Sum("timed"), took_=Sum("took_us")).order_by():
        per_day.setdefault(r["day"], Tally()).add_slot(r["status"], r["runs_"], r["timed_"], r["took_"])
    for day_, tally in per_day.items():
        found.merge_day(day_, tally)
    if durations:
        bars = RunHourDuration.objects.filter(rolled).values("ms").annotate(n=Sum("runs")).order_by()
        found.whole.durations.update({r["ms"]: r["n"] for r in bars})
    return found


def _within(hours: Iterable[datetime]) -> Q:
    within = Q(pk__in=[])
    for hour in hours:
        within |= Q(created_at__gte=hour, created_at__lt=hour + HOUR)
    return within


def _live(where: Q, tz: tzinfo) -> Figures:
    rows = Run.objects.filter(where).order_by().values_list(*COLUMNS).iterator(chunk_size=5000)
    found = Figures()
    for day, tally in tally_by(rows, lambda created: timezone.localtime(created, tz).date()).items():
        found.merge_day(day, tally)
    return found


def whole_hour_days(start: datetime, tz: tzinfo) -> bool:
    """Whether `start` and every local midnight after it up to now are whole UTC hours."""
    if floor_hour(start) != start:
        return False
    day = timezone.localtime(start, tz).date()
    today = timezone.localdate(timezone.now(), tz)
    while day <= today:
        offset = timezone.make_aware(datetime.combine(day, datetime.min.time()), tz).utcoffset()
        if offset is None or offset % timedelta(hours=1):
            return False
        day += timedelta(days=1)
    return True
