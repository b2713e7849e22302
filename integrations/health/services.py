"""Writes of the health app: stamp a heartbeat; note a message redelivered while its row
was still leased."""

import logging
from datetime import timedelta

from django.utils import timezone

from integrations.health.models import Heartbeat, Redelivery

WORKER = "worker"
REDELIVERY_RETENTION = timedelta(days=1)

log = logging.getLogger("integrations.health")


def stamp(name: str = WORKER, hostname: str = "") -> Heartbeat:
    beat, _ = Heartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": timezone.now(), "hostname": hostname[:200]}
    )
    return beat


def note_redelivery(kind: str, row_id: int, *, held_seconds: float, hostname: str = "") -> Redelivery:
    """The broker handed a message back while its row was claimed by a live execution
    `held_seconds` ago. Harmless once (the claim drops it); /healthz warns when it repeats."""
    log.warning(
        "%s %s: message redelivered while the row is leased (claimed %.0f s ago); dropped. "
        "If this repeats, the broker's visibility timeout is shorter than the tasks it covers "
        "(docs/RELIABILITY.md §11.6)",
        kind,
        row_id,
        held_seconds,
    )
    return Redelivery.objects.create(
        kind=kind, row_id=row_id, held_seconds=max(0.0, held_seconds), hostname=hostname[:200], at=timezone.now()
    )


def prune_redeliveries() -> int:
    """Run with the heartbeat: notes older than a day have been read (or missed) already."""
    deleted, _ = Redelivery.objects.filter(at__lt=timezone.now() - REDELIVERY_RETENTION).delete()
    return deleted
