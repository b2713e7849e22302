"""Pruning of ThrottleEvent rows: one row per throttle deferral, read only through the
usage windows (the longest is the connection page's last 24 hours), so older rows are
dead weight that a 429 storm would otherwise pile up for ever."""

from datetime import datetime

from django.utils import timezone

from integrations.deliveries.models import ThrottleEvent
from integrations.deliveries.queries import USAGE_WINDOW

BATCH = 5000  # rows per DELETE: short statements, no long lock on a busy table


def prune_throttle_events(*, now: datetime | None = None) -> int:
    """Delete events older than the longest window they are read for; returns how many.

    Per connection, so each query walks the (connection, at) index instead of the table."""
    cutoff = (now or timezone.now()) - USAGE_WINDOW
    removed = 0
    connection_ids = ThrottleEvent.objects.order_by().values_list("connection_id", flat=True).distinct()
    for connection_id in list(connection_ids):
        old = ThrottleEvent.objects.filter(connection_id=connection_id, at__lt=cutoff)
        while ids := list(old.values_list("pk", flat=True)[:BATCH]):
            removed += ThrottleEvent.objects.filter(pk__in=ids).delete()[0]
    return removed
