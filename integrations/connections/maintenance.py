"""Is a connection in a maintenance window now, and until when? Pure over the rows."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def window_end(window, now: datetime) -> datetime | None:
    """The end of `window` if it is open at `now` (aware), else None."""
    if window.kind == "one_off":
        return window.ends_at if window.starts_at <= now < window.ends_at else None
    tz = ZoneInfo(window.timezone or "UTC")
    local = now.astimezone(tz)
    # A weekly window may cross midnight: check the one that started today and yesterday.
    for back in (0, 1):
        day = (local - timedelta(days=back)).date()
        if day.isoweekday() != window.weekday:
            continue
        start = datetime.combine(day, window.start_time, tz)
        end = datetime.combine(day, window.end_time, tz)
        if end <= start:
            end += timedelta(days=1)
        if start <= local < end:
            return end
    return None


def open_window_end(windows, now: datetime) -> datetime | None:
    """The latest end among the windows open at `now`, or None when none is open."""
    ends = [e for w in windows if (e := window_end(w, now)) is not None]
    return max(ends) if ends else None
