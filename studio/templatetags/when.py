"""`{{ value|when }}`: a moment as people say it ("just now", "40 seconds ago", "3 hours
ago", "in 5 minutes") inside a <time> element whose title is the absolute UTC time, so a
hover gives the exact moment. Django's timesince says "0 minutes" under a minute."""

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

register = template.Library()

JUST_NOW_SECONDS = 10


def relative(value: datetime, now: datetime | None = None) -> str:
    now = now or timezone.now()
    seconds = (now - value).total_seconds()
    if abs(seconds) < JUST_NOW_SECONDS:
        return "just now"
    if 0 < seconds < 60:
        return f"{int(seconds)} seconds ago"
    if -60 < seconds < 0:
        return f"in {int(-seconds)} seconds"
    if seconds < 0:
        return f"in {timeuntil(value, now, depth=1)}"
    return f"{timesince(value, now, depth=1)} ago"


@register.filter
def when(value, empty: str = "never"):
    if not value:
        return format_html('<span class="muted">{}</span>', empty)
    utc = value.astimezone(UTC) if timezone.is_aware(value) else value
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time>',
        utc.isoformat(timespec="seconds"),
        utc.strftime("%Y-%m-%d %H:%M:%S"),
        relative(value),
    )
