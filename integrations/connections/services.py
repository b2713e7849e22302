"""The only functions that write connections and their maintenance windows. Each owns
its transaction and writes the audit entry with the change; credentials are write-only
(the audit shows only that a secret changed, never its value)."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import PROTECT
from django.utils import timezone

from integrations.audit.services import record
from integrations.connections import hooks
from integrations.connections.models import Connection, MaintenanceWindow
from integrations.connectors.base import CheckResult
from integrations.connectors.errors import ConnectorError
from integrations.connectors.registry import UnknownConnector, get_connector

logger = logging.getLogger(__name__)

# Fields a form or the API may set directly on a connection.
EDITABLE = (
    "label",
    "environment",
    "base_url",
    "config",
    "allowed_hosts",
    "rate_limit_requests",
    "rate_limit_interval_seconds",
    "max_concurrency",
    "max_attempts",
    "timezone",
)
# Changing these means the last successful test no longer proves anything.
REVERIFY = ("base_url", "config", "allowed_hosts")


class ConnectionInUse(Exception):
    """The connection cannot be deleted: flows use it, or rows of its history refer to it."""

    def __init__(self, flows: list[str], kept: dict[str, int] | None = None) -> None:
        self.flows, self.kept = flows, kept or {}
        if flows:
            self.message = f"Used by flows: {', '.join(flows)}."
        else:
            counts = " and ".join(f"{n} {name}" for name, n in self.kept.items())
            self.message = f"It has {counts} on record, kept as history; pause the connection instead."
        super().__init__(self.message)


def snapshot(connection: Connection) -> dict[str, Any]:
    data = {name: getattr(connection, name) for name in ("name", "kind", *EDITABLE)}
    data["credentials"] = connection.credentials_encrypted  # compared only; shown as ••••
    return data


def _merge_credentials(connection: Connection, replace: dict[str, str] | None) -> None:
    """Only keys with a new value change; a blank field keeps the stored secret."""
    new = {k: v for k, v in (replace or {}).items() if v not in (None, "")}
    current = connection.get_credentials()
    if new and {**current, **new} != current:  # Fernet output differs each time: encrypt only on change
        connection.set_credentials({**current, **new})


@transaction.atomic
def create_connection(
    actor, *, name: str, kind: str, credentials: dict[str, str] | None = None, **fields: Any
) -> Connection:
    connection = Connection(name=name, kind=kind, **{k: v for k, v in fields.items() if k in EDITABLE})
    _merge_credentials(connection, credentials)
    connection.full_clean()
    connection.save()
    after = snapshot(connection)
    record(actor, "connection.created", connection, before={}, after=after, secret_fields=("credentials",))
    return connection


@transaction.atomic
def update_connection(
    actor, connection: Connection, *, credentials: dict[str, str] | None = None, **fields: Any
) -> Connection:
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    before = snapshot(connection)
    for key, value in fields.items():
        if key in EDITABLE:
            setattr(connection, key, value)
    _merge_credentials(connection, credentials)
    after = snapshot(connection)
    if before == after:
        return connection  # nothing changed: no write, no audit entry
    if any(before[k] != after[k] for k in (*REVERIFY, "credentials")):
        connection.verified = False
    connection.full_clean()
    connection.save()
    record(actor, "connection.updated", connection, before=before, after=after, secret_fields=("credentials",))
    return connection


def flows_using(connection: Connection) -> list[str]:
    """Keys of the flows that use the connection (the flows app answers, connections/hooks.py)."""
    return sorted({key for keys in hooks.flows_using.send(connection=connection) for key in keys})


def history_of(connection: Connection) -> dict[str, int]:
    """Rows other apps keep about the connection and protect from deletion (events it
    received, deliveries made to it): {relation name, e.g. "events": how many}. Read from
    the model relations Django knows, so this app names none of those apps."""
    kept = {}
    for relation in Connection._meta.related_objects:
        if relation.on_delete is not PROTECT:
            continue
        count = relation.related_model._base_manager.filter(**{relation.field.name: connection}).count()
        if count:
            kept[relation.get_accessor_name()] = count
    return kept


@transaction.atomic
def delete_connection(actor, connection: Connection) -> None:
    """Refused (ConnectionInUse) while a flow uses the connection, or while events it
    received or deliveries made to it are on record: those are history and are kept."""
    flows = flows_using(connection)
    kept = history_of(connection)
    if flows or kept:
        raise ConnectionInUse(flows, kept)
    record(
        actor, "connection.deleted", connection, before=snapshot(connection), after={}, secret_fields=("credentials",)
    )
    connection.delete()


def check_connection(actor, connection: Connection, *, on_attempt=None):
    """Call the system once and store the outcome; returns the connector's CheckResult."""
    try:
        connector = get_connector(connection, on_attempt=on_attempt)
    except (UnknownConnector, ImportError, ConnectorError) as exc:
        result = CheckResult(False, 0, str(exc))
    else:
        try:
            result = connector.test()
        except Exception as exc:  # a connector bug must not become a 500 on the page
            logger.exception("connection %s: test raised", connection.name)
            result = CheckResult(False, 0, f"Unexpected {type(exc).__name__} in the {connection.kind} connector.")
        finally:
            connector.close()
    Connection.objects.filter(pk=connection.pk).update(
        last_check_at=timezone.now(),
        last_check_ok=result.ok,
        last_check_latency_ms=result.latency_ms,
        last_check_error="" if result.ok else result.message[:2000],
        verified=result.ok,
    )
    connection.refresh_from_db()
    return result


def connections_to_check():
    """Connections the periodic health check calls: outbound, not paused by hand."""
    return Connection.objects.filter(paused=False).exclude(base_url="")


WINDOW_FIELDS = ("kind", "weekday", "start_time", "end_time", "starts_at", "ends_at", "timezone", "note")


@transaction.atomic
def add_window(actor, connection: Connection, **fields: Any) -> MaintenanceWindow:
    window = MaintenanceWindow(connection=connection, **{k: v for k, v in fields.items() if k in WINDOW_FIELDS})
    window.full_clean()
    window.save()
    after = {k: str(getattr(window, k)) for k in WINDOW_FIELDS if getattr(window, k) not in (None, "")}
    record(actor, "connection.window_added", connection, before={}, after=after, message=describe_window(window))
    return window


@transaction.atomic
def delete_window(actor, window: MaintenanceWindow) -> None:
    record(actor, "connection.window_removed", window.connection, message=describe_window(window), changes={})
    window.delete()


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def describe_window(window: MaintenanceWindow) -> str:
    if window.kind == "weekly":
        return (
            f"Every {WEEKDAYS[window.weekday - 1]} {window.start_time:%H:%M}–{window.end_time:%H:%M} "
            f"({window.timezone})"
        )
    tz = ZoneInfo(window.timezone or "UTC")
    start, end = window.starts_at.astimezone(tz), window.ends_at.astimezone(tz)
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} ({window.timezone})"
