"""Whole-day date filters shared by the list pages: `since` and `until` are days in the viewer's
time zone, both included."""

from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone


def start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def within_days(queryset: QuerySet, field: str, since: date | None, until: date | None) -> QuerySet:
    if since:
        queryset = queryset.filter(**{f"{field}__gte": start_of(since)})
    if until:
        queryset = queryset.filter(**{f"{field}__lt": start_of(until) + timedelta(days=1)})
    return queryset
