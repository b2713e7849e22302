"""A connection's status, computed from its last check, pause, maintenance windows, the
circuit breaker and recent throttling: Healthy / Degraded / Offline / In maintenance / Paused /
Unverified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from integrations.connections.choices import ConnectionStatus
from integrations.connections.maintenance import open_window_end

SLOW_MS = 5000  # a check slower than this counts as degraded
THROTTLE_LOOKBACK = timedelta(hours=1)


@dataclass(frozen=True)
class Health:
    status: ConnectionStatus
    detail: str = ""
    until: datetime | None = None

    @property
    def label(self) -> str:
        return self.status.label

    @property
    def css(self) -> str:
        return {
            ConnectionStatus.HEALTHY: "badge-ok",
            ConnectionStatus.DEGRADED: "badge-warn",
            ConnectionStatus.MAINTENANCE: "badge-warn",
            ConnectionStatus.PAUSED: "badge-warn",
            ConnectionStatus.OFFLINE: "badge-bad",
        }.get(self.status, "")


def health(connection, now: datetime | None = None, *, throttled: int = 0) -> Health:
    """`throttled`: 429s and limiter deferrals in the last THROTTLE_LOOKBACK — the delivery
    ledger's numbers, passed in by whoever shows the status (deliveries.queries.connection_health)."""
    now = now or timezone.now()
    if connection.paused:
        return Health(ConnectionStatus.PAUSED, connection.paused_reason)
    end = open_window_end(list(connection.maintenance_windows.all()), now)
    if end is not None:
        return Health(ConnectionStatus.MAINTENANCE, f"until {end:%Y-%m-%d %H:%M %Z}", end)
    held_until = connection.circuit_held_until
    if held_until is not None:
        # The target failed repeatedly just now: a fresh live fact, ahead of the last check.
        return Health(ConnectionStatus.OFFLINE, f"circuit open until {held_until:%Y-%m-%d %H:%M %Z}", held_until)
    if connection.last_check_at is None:
        return Health(ConnectionStatus.UNVERIFIED, "never tested")
    if connection.last_check_ok is False:
        return Health(ConnectionStatus.OFFLINE, connection.last_check_error)
    if throttled:
        return Health(ConnectionStatus.DEGRADED, f"throttled {throttled}× in the last hour")
    if (connection.last_check_latency_ms or 0) > SLOW_MS:
        return Health(ConnectionStatus.DEGRADED, f"slow: {connection.last_check_latency_ms} ms")
    return Health(ConnectionStatus.HEALTHY)
