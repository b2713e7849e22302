"""Events: inbound messages, stored append-only and replayable."""

from django.db import models


class Event(models.Model):
    connection = models.ForeignKey(
        "connections.Connection", null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    source = models.CharField(max_length=80, help_text="Connection name, or 'api'/'manual'/'poll:<flow>' etc.")
    type = models.CharField(max_length=120, db_index=True)
    external_id = models.CharField(max_length=255, help_text="Dedupe key: the sender's event id.")
    business_key = models.CharField(max_length=200, blank=True, db_index=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="event_unique_per_source")]

    def __str__(self) -> str:
        return f"{self.source}:{self.type}:{self.external_id}"
