"""Writes of the health app: stamp a heartbeat."""

from django.utils import timezone

from integrations.health.models import Heartbeat

WORKER = "worker"


def stamp(name: str = WORKER, hostname: str = "") -> Heartbeat:
    beat, _ = Heartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": timezone.now(), "hostname": hostname[:200]}
    )
    return beat
