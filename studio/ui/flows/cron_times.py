"""The next run times of a cron expression in a time zone, for the trigger panel.

Parsed by Celery's crontab (what the beat scheduler runs), whose fields must all match
(day of month AND day of week). Times are computed on the local wall clock of the zone."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from celery.schedules import crontab

from integrations.triggers.schedules import ScheduleInvalid, parse_cron

SEARCH_DAYS = 366 * 5  # "29 2 * *" on a Monday can be years away; beyond that we say none


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone, or ValueError naming the problem (never a 500 on user input)."""
    name = (name or "UTC").strip()
    if len(name) > 64 or name not in _zones():
        raise ValueError(f"'{name[:64]}' is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"'{name}' is not an IANA time zone") from exc


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones() | {"UTC"})
    return _ZONES


def next_times(cron: str, tz_name: str | None = None, *, count: int = 5, now: datetime | None = None) -> list[datetime]:
    """Raises ScheduleInvalid (the engine's message) or ValueError (the zone)."""
    fields = parse_cron(cron)
    tz = zone(tz_name)
    spec = crontab(**fields)
    minutes, hours = sorted(spec.minute), sorted(spec.hour)
    local = (now or datetime.now(tz)).astimezone(tz).replace(second=0, microsecond=0)
    found: list[datetime] = []
    day = local.date()
    for _ in range(SEARCH_DAYS):
        weekday = (day.isoweekday()) % 7  # Celery: 0 = Sunday
        if day.month in spec.month_of_year and day.day in spec.day_of_month and weekday in spec.day_of_week:
            for hour in hours:
                for minute in minutes:
                    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
                    if moment > local:
                        found.append(moment)
                        if len(found) == count:
                            return found
        day += timedelta(days=1)
    return found


__all__ = ["ScheduleInvalid", "next_times", "zone"]
