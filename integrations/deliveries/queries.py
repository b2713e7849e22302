"""Read helpers for the connection page and dashboards: status, usage, throttling, held work."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from integrations.connections.health import THROTTLE_LOOKBACK, Health, health
from integrations.connections.models import Connection
from integrations.deliveries.choices import DUE_STATES, Outcome
from integrations.deliveries.holds import hold_for
from integrations.deliveries.models import Delivery, DeliveryAttempt, ThrottleEvent

FAILED = (Outcome.RETRYABLE, Outcome.DEAD, Outcome.EXHAUSTED, Outcome.WORKER_LOST)
# The longest window throttle events are read for; retention.py prunes what is older.
USAGE_WINDOW = timedelta(hours=24)


def usage_last_24h(connection: Connection) -> dict[str, Any]:
    """{requests, throttled, failures, by_hour: [{hour, requests, throttled, failures}]}.

    requests = attempts that called the target; throttled = deferrals by our own limiter
    plus 429 answers from the target; failures = attempts that did not succeed."""
    since = timezone.now() - USAGE_WINDOW
    attempts = DeliveryAttempt.objects.filter(delivery__connection=connection, started_at__gte=since)
    hours: dict[datetime, dict[str, int]] = {}
    rows = (
        attempts.annotate(hour=TruncHour("started_at"))
        .values("hour")
        .annotate(
            requests=Count("id", filter=Q(http_calls__gt=0)),
            failures=Count("id", filter=Q(outcome__in=FAILED)),
            target_429=Count("id", filter=Q(status_code=429)),
        )
    )
    for row in rows:
        hours[row["hour"]] = {"requests": row["requests"], "failures": row["failures"], "throttled": row["target_429"]}
    deferrals = (
        ThrottleEvent.objects.filter(connection=connection, at__gte=since)
        .annotate(hour=TruncHour("at"))
        .values("hour")
        .annotate(n=Count("id"))
    )
    for deferred in deferrals:
        slot = hours.setdefault(deferred["hour"], {"requests": 0, "failures": 0, "throttled": 0})
        slot["throttled"] += deferred["n"]
    by_hour = [{"hour": hour, **counts} for hour, counts in sorted(hours.items())]
    return {
        "requests": sum(h["requests"] for h in by_hour),
        "throttled": sum(h["throttled"] for h in by_hour),
        "failures": sum(h["failures"] for h in by_hour),
        "by_hour": by_hour,
    }


def held_count(connection: Connection) -> int:
    """Deliveries waiting on a pause or maintenance window of this connection (0 if none)."""
    if hold_for(connection) is None:
        return 0
    return Delivery.objects.filter(connection=connection, state__in=DUE_STATES).count()


def state_counts(connection: Connection | None = None) -> dict[str, int]:
    """{state: count} over the ledger, optionally for one connection."""
    rows = Delivery.objects.all()
    if connection is not None:
        rows = rows.filter(connection=connection)
    return dict(rows.values_list("state").annotate(n=Count("id")).values_list("state", "n"))


def recent_throttling(connection: Connection, since: datetime) -> int:
    """429s answered by the target and deferrals by our own limiter since `since`."""
    answered = DeliveryAttempt.objects.filter(delivery__connection=connection, started_at__gte=since, status_code=429)
    deferred = ThrottleEvent.objects.filter(connection=connection, at__gte=since)
    return answered.count() + deferred.count()


def connection_health(connection: Connection, now: datetime | None = None) -> Health:
    """The connection's status (connections.health) with the ledger's recent throttling."""
    now = now or timezone.now()
    return health(connection, now, throttled=recent_throttling(connection, now - THROTTLE_LOOKBACK))
