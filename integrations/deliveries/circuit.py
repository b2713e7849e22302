"""Per-connection circuit breaker (docs/RELIABILITY.md §7): a target that keeps failing is left
alone for a cooldown instead of burning every pending delivery's attempts.

States, all in the connection row and changed only by conditional UPDATEs (so every worker
process agrees without a lock):
- closed: `circuit_open_until` is NULL; each transient failure of a real attempt adds one
  to `circuit_failures` (F() expression), any success resets it;
- open: `circuit_open_until` > now; deliveries are held like in a maintenance window
  (not claimed, no attempt consumed);
- half-open: `circuit_open_until` <= now; the one worker whose UPDATE moves
  `circuit_open_until` from the value it read to a probe deadline sends the probe. Success
  closes the circuit, failure re-opens it with the cooldown doubled.

What counts: 5xx, timeouts and connection errors. Not a throttling answer (429, 503 with
Retry-After: the target is up and asks us to wait) and not a permanent 4xx.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.audit.services import record
from integrations.connections.models import Connection
from integrations.deliveries import conf


@dataclass(frozen=True)
class Limits:
    threshold: int  # consecutive transient failures that open the circuit; 0 = no breaker
    cooldown: float  # seconds open after the first trip; doubles per re-open
    max_cooldown: float


def _number(value: Any, default: float, low: float) -> float:
    # `config` is free-form JSON: a bad value falls back to the default rather than failing a delivery.
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if number >= low else default


def limits_of(connection: Connection) -> Limits:
    """Settings defaults, overridden per connection by `config.circuit_*` keys."""
    config = connection.config if isinstance(connection.config, dict) else {}
    cooldown = _number(config.get("circuit_cooldown_seconds"), conf.circuit_cooldown_seconds(), 1)
    return Limits(
        threshold=int(_number(config.get("circuit_threshold"), conf.circuit_threshold(), 0)),
        cooldown=cooldown,
        max_cooldown=max(
            cooldown, _number(config.get("circuit_max_cooldown_seconds"), conf.circuit_max_cooldown_seconds(), 1)
        ),
    )


def cooldown_seconds(limits: Limits, opens: int) -> float:
    """How long the circuit stays open after its `opens`-th consecutive re-open (0 = first trip)."""
    return min(limits.max_cooldown, limits.cooldown * 2.0 ** min(opens, 30))


def is_open(connection: Connection, now: datetime) -> bool:
    until = connection.circuit_open_until
    return until is not None and until > now


def is_half_open(connection: Connection, now: datetime) -> bool:
    until = connection.circuit_open_until
    return until is not None and until <= now


def take_probe(connection: Connection, now: datetime) -> datetime | None:
    """Become the one probe of a half-open circuit; returns the probe's token (the new
    `circuit_open_until`, which keeps everyone else held meanwhile), or None if another
    worker got there first. A probe whose worker dies frees itself at the deadline."""
    seen = connection.circuit_open_until
    if seen is None or seen > now:
        return None
    token = max(now + timedelta(seconds=conf.circuit_probe_seconds()), seen + timedelta(microseconds=1))
    won = Connection.objects.filter(pk=connection.pk, circuit_open_until=seen).update(circuit_open_until=token)
    return token if won else None


def give_back_probe(connection: Connection, probe: datetime) -> None:
    """The probe never reached the target (not claimed, throttled, a 4xx): let another try now."""
    Connection.objects.filter(pk=connection.pk, circuit_open_until=probe).update(circuit_open_until=timezone.now())


def succeeded(connection: Connection, probe: datetime | None = None) -> None:
    """A real attempt succeeded: the target is up. Reset the count, close an open circuit.

    Reads the connection as loaded for this delivery, so a healthy connection costs no write."""
    if probe is None and connection.circuit_open_until is None and not connection.circuit_failures:
        return
    rows = Connection.objects.filter(pk=connection.pk)
    with transaction.atomic():
        if rows.filter(circuit_open_until__isnull=False).update(
            circuit_open_until=None, circuit_opens=0, circuit_failures=0
        ):
            record(
                "system",
                "connection.circuit_closed",
                connection,
                message="A delivery succeeded; held deliveries drain in order.",
            )
            return
    rows.filter(circuit_failures__gt=0).update(circuit_failures=0)


def failed(connection: Connection, probe: datetime | None = None) -> bool:
    """A real attempt failed transiently. Returns True when this failure opened the circuit."""
    limits, now = limits_of(connection), timezone.now()
    rows = Connection.objects.filter(pk=connection.pk)
    if probe is not None:
        # `circuit_opens` cannot change while we hold the probe: only the holder re-opens.
        seconds = cooldown_seconds(limits, connection.circuit_opens)
        with transaction.atomic():
            if rows.filter(circuit_open_until=probe).update(
                circuit_open_until=now + timedelta(seconds=seconds),
                circuit_opens=F("circuit_opens") + 1,
                circuit_failures=0,
            ):
                _audit_opened(connection, now, seconds, "the probe delivery failed")
                return True
        return False
    if not limits.threshold:
        return False
    rows.update(circuit_failures=F("circuit_failures") + 1)
    seconds = cooldown_seconds(limits, 0)
    with transaction.atomic():
        if rows.filter(circuit_open_until__isnull=True, circuit_failures__gte=limits.threshold).update(
            circuit_open_until=now + timedelta(seconds=seconds), circuit_opens=1, circuit_failures=0
        ):
            _audit_opened(connection, now, seconds, f"{limits.threshold} consecutive transient failures")
            return True
    return False


def _audit_opened(connection: Connection, now: datetime, seconds: float, why: str) -> None:
    until = now + timedelta(seconds=seconds)
    record(
        "system",
        "connection.circuit_opened",
        connection,
        changes={"circuit_open_until": [None, until.isoformat()]},
        message=f"{why}; deliveries held until {until:%Y-%m-%d %H:%M:%S} UTC, then one probe.",
    )


def close(connection: Connection, actor: AbstractBaseUser | str | None) -> bool:
    """An operator closes the circuit by hand (the target is back): held deliveries drain
    in order at the next dispatch. False if it was already closed. A probe still out finds
    its token gone, so its late answer neither re-opens nor closes anything."""
    rows = Connection.objects.filter(pk=connection.pk)
    changed = False
    for _ in range(5):  # a worker may move the deadline between our read and our UPDATE
        seen = rows.values_list("circuit_open_until", flat=True).first()
        if seen is None:
            break
        with transaction.atomic():
            changed = bool(
                rows.filter(circuit_open_until=seen).update(
                    circuit_open_until=None, circuit_opens=0, circuit_failures=0
                )
            )
            if changed:
                record(
                    actor,
                    "connection.circuit_closed",
                    connection,
                    changes={"circuit_open_until": [seen.isoformat(), None]},
                    message="Closed by hand; held deliveries drain in order.",
                )
        if changed:
            break
    connection.refresh_from_db(fields=["circuit_open_until", "circuit_opens", "circuit_failures"])
    return changed
