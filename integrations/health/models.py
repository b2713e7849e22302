"""Liveness stamps: a periodic task run by a worker writes the time it ran, so anything
that reads the row knows a worker (and beat, which sent the task) was alive then."""

from django.db import models


class Heartbeat(models.Model):
    name = models.CharField(max_length=40, unique=True, help_text="What beats, e.g. 'worker'.")
    beat_at = models.DateTimeField()
    hostname = models.CharField(max_length=200, blank=True, help_text="The worker that stamped it last.")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
