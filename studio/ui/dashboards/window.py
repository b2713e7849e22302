"""The dashboard's time range, kept in the URL (?range=24h|7d|30d).

A range starts at midnight in the viewer's time zone, because the run list filters by whole
days: every number on the dashboard then opens exactly the rows it counts. "24h" therefore
counts from the start of yesterday, "7d" from the start of the day a week ago."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

RANGES = {"24h": ("Last 24 hours", 1), "7d": ("Last 7 days", 7), "30d": ("Last 30 days", 30)}
DEFAULT = "24h"


class BadRange(ValueError):
    """?range= names no known range; the view answers 400 naming the field."""


@dataclass(frozen=True)
class Window:
    key: str
    label: str
    first_day: date  # the run list's ?since=
    start: datetime  # midnight of first_day, aware
    today: date

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range((self.today - self.first_day).days + 1)]


def window_for(value: str | None, now: datetime | None = None) -> Window:
    key = value or DEFAULT
    if key not in RANGES:
        raise BadRange(f"range: choose one of {', '.join(RANGES)} (got '{key[:20]}')")
    label, days = RANGES[key]
    today = timezone.localdate(now or timezone.now())
    first = today - timedelta(days=days)
    return Window(key, label, first, midnight(first), today)


def midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())
