"""Held deliveries: a connection paused by hand, inside a maintenance window or with its
circuit open (circuit.py) keeps its due deliveries PENDING (held); when the hold ends the
dispatcher drains them oldest-first under the connection's rate limit (docs/RELIABILITY.md §7)."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.audit.services import record
from integrations.connections.maintenance import open_window_end
from integrations.connections.models import Connection, MaintenanceWindow


@dataclass(frozen=True)
class Hold:
    reason: str  # "paused", "maintenance" or "circuit"
    until: datetime | None  # end of the window or cooldown; None for a manual pause
    note: str = ""

    @property
    def label(self) -> str:
        if self.reason == "paused":
            return f"Paused: {self.note}" if self.note else "Paused"
        if self.reason == "circuit":
            return f"Circuit open until {self.until:%Y-%m-%d %H:%M:%S} UTC"
        return f"Maintenance window until {self.until:%Y-%m-%d %H:%M} UTC"


def hold_for(connection: Connection, now: datetime | None = None) -> Hold | None:
    """Why deliveries to this connection are held right now, or None."""
    now = now or timezone.now()
    return schedule_hold(connection, now) or circuit_hold(connection, now)


def schedule_hold(connection: Connection, now: datetime) -> Hold | None:
    """A pause or maintenance window: changes rarely, so a chunk may check it once."""
    if connection.paused:
        return Hold("paused", None, connection.paused_reason)
    end = open_window_end(list(connection.maintenance_windows.all()), now)
    return Hold("maintenance", end) if end else None


def circuit_hold(connection: Connection, now: datetime) -> Hold | None:
    """An open circuit (read from the row as loaded: the sender loads it per delivery).
    While its probe is out the circuit reads as open until the probe's deadline."""
    until = connection.circuit_open_until
    return Hold("circuit", until) if until is not None and until > now else None


def held_connection_ids(now: datetime | None = None) -> set[int]:
    """Every connection whose deliveries are held now (one query for pauses and open
    circuits, one for windows)."""
    now = now or timezone.now()
    paused_or_open = Q(paused=True) | Q(circuit_open_until__gt=now)
    held = set(Connection.objects.filter(paused_or_open).values_list("pk", flat=True))
    by_connection: dict[int, list[MaintenanceWindow]] = {}
    for window in MaintenanceWindow.objects.all():
        by_connection.setdefault(window.connection_id, []).append(window)
    held.update(pk for pk, windows in by_connection.items() if open_window_end(windows, now))
    return held


def pause_connection(connection: Connection, actor: AbstractBaseUser | str | None, reason: str = "") -> bool:
    """Hold every delivery to the connection until it is resumed. False if already paused."""
    reason = (reason or "").strip()[:200]
    with transaction.atomic():
        changed = Connection.objects.filter(pk=connection.pk, paused=False).update(
            paused=True, paused_reason=reason, updated_at=timezone.now()
        )
        if changed:
            record(actor, "connection.paused", connection, changes={"paused": [False, True]}, message=reason)
    connection.refresh_from_db(fields=["paused", "paused_reason"])
    return bool(changed)


def resume_connection(connection: Connection, actor: AbstractBaseUser | str | None, reason: str = "") -> bool:
    """Release the held deliveries; they drain oldest-first. False if it was not paused."""
    with transaction.atomic():
        changed = Connection.objects.filter(pk=connection.pk, paused=True).update(
            paused=False, paused_reason="", updated_at=timezone.now()
        )
        if changed:
            record(actor, "connection.resumed", connection, changes={"paused": [True, False]}, message=reason)
    connection.refresh_from_db(fields=["paused", "paused_reason"])
    return bool(changed)
