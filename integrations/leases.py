"""The claim shared by runs and chunks (docs/RELIABILITY.md §3): one conditional UPDATE moves a
queued, due row to running with a lease and a new fencing token. Whoever's UPDATE matched
owns the row until the lease ends; every later write of that execution names the fence."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, QuerySet


def claim_due(rows: QuerySet, *, queued: str, running: str, now: datetime, **also) -> bool:
    """True if this caller claimed the row(s) of `rows` that are queued and due."""
    due = Q(status=queued) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    return bool(
        rows.filter(due).update(
            status=running,
            fence=F("fence") + 1,
            attempts=F("attempts") + 1,
            lease_until=now + timedelta(seconds=settings.SWITCHBOARD_LEASE_SECONDS),
            **also,
        )
    )
