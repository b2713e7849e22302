"""Sandbox state: every simulated vendor keeps its records, request log, injected
faults, idempotency keys and settings here, so a sandbox survives restarts."""

from django.db import models


class SandboxRecord(models.Model):
    vendor = models.CharField(max_length=32)
    object_type = models.CharField(max_length=64)
    record_id = models.CharField(max_length=64)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["vendor", "object_type", "id"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "object_type", "record_id"], name="sandbox_record_unique_id"),
            models.UniqueConstraint(
                fields=["vendor", "object_type", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="sandbox_record_unique_external_id",
            ),
        ]
        indexes = [models.Index(fields=["vendor", "object_type", "updated_at"], name="sandbox_record_changed")]

    def __str__(self) -> str:
        return f"{self.vendor}/{self.object_type}/{self.record_id}"


class SandboxRequest(models.Model):
    """The log of write requests a sandbox received (what `_admin/requests` shows)."""

    vendor = models.CharField(max_length=32, db_index=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    idempotency_key = models.CharField(max_length=255, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    body_excerpt = models.TextField(blank=True)
    status = models.PositiveSmallIntegerField(null=True)
    fault = models.CharField(max_length=20, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.vendor} {self.method} {self.path}"


class FaultKind(models.TextChoices):
    STATUS = "status", "Error status"
    DELAY = "delay", "Delay"
    DROP_AFTER_COMMIT = "drop_after_commit", "Drop connection after commit"
    THROTTLE = "throttle", "Throttle"
    MAINTENANCE = "maintenance", "Maintenance"


class SandboxFault(models.Model):
    """An injected fault for the next `remaining` matching requests."""

    vendor = models.CharField(max_length=32, db_index=True)
    kind = models.CharField(max_length=20, choices=FaultKind.choices)
    remaining = models.PositiveIntegerField(default=1)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    delay_seconds = models.FloatField(default=0)
    retry_after = models.PositiveIntegerField(null=True, blank=True)
    body = models.TextField(blank=True, help_text="Error message given to the vendor's error body.")
    writes_only = models.BooleanField(default=False, help_text="Only affect write requests (POST/PUT/PATCH/DELETE).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.vendor} {self.kind} ×{self.remaining}"


class SandboxIdempotency(models.Model):
    vendor = models.CharField(max_length=32)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.TextField(blank=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vendor", "key"], name="sandbox_idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.vendor} {self.key}"


class SandboxSetting(models.Model):
    vendor = models.CharField(max_length=32, unique=True)
    rate_limit_per_window = models.PositiveIntegerField(null=True, blank=True, help_text="Empty = no limit.")
    window_seconds = models.PositiveIntegerField(default=10)
    webhook_target = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=255, blank=True)
    seeded_size = models.CharField(max_length=20, blank=True)
    seeded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.vendor


class SandboxCounter(models.Model):
    """Fixed-window request counters for the sandboxes' rate limits (shared by processes)."""

    vendor = models.CharField(max_length=32)
    window_start = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vendor", "window_start"], name="sandbox_counter_unique_window")]

    def __str__(self) -> str:
        return f"{self.vendor}@{self.window_start}: {self.count}"
