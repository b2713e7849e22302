"""The delivery ledger (docs/RELIABILITY.md §3 to §8): one row per write to a target system, unique
per idempotency key, claimed with a lease and a fencing token; one attempt row per claim."""

from django.db import models
from django.db.models import Q

from integrations.deliveries.choices import Classification, DeliveryState, Outcome


class Delivery(models.Model):
    idempotency_key = models.CharField(max_length=255, unique=True)
    run = models.ForeignKey("runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    step_id = models.CharField(max_length=64, blank=True)
    connection = models.ForeignKey("connections.Connection", on_delete=models.PROTECT, related_name="deliveries")
    object = models.CharField(max_length=100)
    action = models.CharField(max_length=10)  # create, update, upsert
    payload = models.JSONField(default=dict)
    # The payload as first requested; `payload` may be edited before a retry (docs/RELIABILITY.md §8).
    original_payload = models.JSONField(default=dict)
    external_id_field = models.CharField(max_length=100, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    # Appended to the key sent to the target after an edit, so the target never sees one
    # Idempotency-Key with two different bodies (IETF draft 422 / Stripe mismatch).
    key_suffix = models.CharField(max_length=20, blank=True)
    revision = models.PositiveIntegerField(default=0)

    state = models.CharField(max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    fence = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    worker_losses = models.PositiveSmallIntegerField(default=0)
    # Attempts cut short by a database error, given back at once (integrations/leases.py):
    # counted apart from worker_losses, so a database outage never dead-letters a row.
    db_errors = models.PositiveSmallIntegerField(default=0, db_default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # The last attempt may have reached the target: look up before posting again (docs/RELIABILITY.md §4).
    needs_lookup = models.BooleanField(default=False)
    # Attempts that timed out or lost the answer against a target with no idempotent write
    # (transport.py): each delays the next by the connection's settle time; at the cap the
    # row is looked up once more and, not found, becomes DEAD `uncertain` instead of re-posted.
    unclear_attempts = models.PositiveSmallIntegerField(default=0)

    remote_id = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    classification = models.CharField(max_length=20, choices=Classification.choices, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["state", "lease_until"], name="delivery_lease"),
            models.Index(fields=["connection", "state"], name="delivery_conn_state"),
            # "are all deliveries of this batch run terminal?" once per finished delivery
            models.Index(fields=["run", "state"], name="delivery_run_state"),
        ]
        constraints = [
            models.CheckConstraint(
                name="delivery_action_known", condition=Q(action__in=["create", "update", "upsert"])
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.idempotency_key} ({self.state})"

    @property
    def key(self) -> str:
        return self.idempotency_key

    @property
    def send_key(self) -> str:
        """The Idempotency-Key the target sees: the ledger key, plus `:rN` after an edit."""
        return f"{self.idempotency_key}:{self.key_suffix}" if self.key_suffix else self.idempotency_key

    @property
    def is_terminal(self) -> bool:
        return self.state in (DeliveryState.SUCCEEDED, DeliveryState.DEAD)


class DeliveryAttempt(models.Model):
    """One claim of a delivery: what was sent and what came back, redacted."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    fence = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    http_calls = models.PositiveSmallIntegerField(default=0)
    request_excerpt = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["delivery", "id"]
        indexes = [models.Index(fields=["started_at"], name="attempt_started")]

    def __str__(self) -> str:
        return f"attempt {self.fence} of delivery {self.delivery_id}: {self.outcome}"


class ThrottleBucket(models.Model):
    """Database-backed token bucket per connection (embedded default; Redis when scaled)."""

    connection = models.OneToOneField("connections.Connection", on_delete=models.CASCADE, related_name="+")
    tokens = models.FloatField()
    refilled_at = models.FloatField(help_text="Unix time of the last refill.")

    def __str__(self) -> str:
        return f"bucket of connection {self.connection_id}: {self.tokens:.2f}"


class ThrottleSlot(models.Model):
    """A leased concurrency slot per connection; an expired slot is free again."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=40, unique=True)
    expires_at = models.FloatField()

    def __str__(self) -> str:
        return f"slot {self.token} of connection {self.connection_id}"


class ThrottleEvent(models.Model):
    """A delivery deferred by the throttle (for the connection's usage numbers)."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["connection", "at"], name="throttle_event_at")]

    def __str__(self) -> str:
        return f"throttled {self.connection_id} at {self.at:%H:%M:%S}"
