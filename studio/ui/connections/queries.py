"""Read helpers for the connection pages (usage against the limit)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from integrations.connections.models import Connection
from integrations.deliveries.queries import held_count, usage_last_24h


def get_connection(name: str) -> Connection:
    return get_object_or_404(Connection.objects.prefetch_related("maintenance_windows"), name=name)


def usage_summary(connection) -> dict:
    """Requests, 429s and failures over 24 h, with the configured limit for comparison."""
    usage = usage_last_24h(connection)
    limit = connection.rate_limit_requests
    per = connection.rate_limit_interval_seconds or 1
    usage["limit_label"] = f"{limit} per {per} s" if limit else "no limit configured"
    usage["daily_capacity"] = limit * 86400 // per if limit else None
    usage["percent"] = round(100 * usage["requests"] / usage["daily_capacity"], 2) if limit else None
    usage["peak_hour"] = max((h["requests"] for h in usage["by_hour"]), default=0)
    return usage


def held_deliveries(connection) -> int:
    """Deliveries waiting on this connection's pause or maintenance window."""
    return held_count(connection)
