"""Liveness stamps: a periodic task run by a worker writes the time it ran, so anything
that reads the row knows a worker (and beat, which sent the task) was alive then."""

from django.db import models


class Heartbeat(models.Model):
    name = models.CharField(max_length=40, unique=True, help_text="What beats, e.g. 'worker'.")
    beat_at = models.DateTimeField()
    hostname = models.CharField(max_length=200, blank=True, help_text="The worker that stamped it last.")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class Redelivery(models.Model):
    """A broker message redelivered for a run, chunk or delivery that another execution
    still holds under a live lease. The message is dropped (the claim lets one execution
    through), but many of them mean the broker's visibility timeout is shorter than the
    tasks it covers (checks.redeliveries). Written by the runtime, read by /healthz."""

    kind = models.CharField(max_length=20, help_text="run, chunk or delivery")
    row_id = models.BigIntegerField()
    held_seconds = models.FloatField(help_text="How long the row had been claimed when the message came back.")
    hostname = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.row_id} redelivered while leased ({self.held_seconds:.0f} s) at {self.at:%H:%M:%S}"
