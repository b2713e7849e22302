"""A connection: one configured instance of a connector (docs/ARCHITECTURE.md#vocabulary)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from integrations import crypto
from integrations.connections.choices import WindowKind


class Connection(models.Model):
    name = models.SlugField(max_length=64, unique=True, help_text="Stable name flows refer to, e.g. 'netsuite'.")
    label = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=40, help_text="Connector kind from the connector registry.")
    environment = models.CharField(max_length=20, default="sandbox")
    base_url = models.URLField(max_length=500, blank=True, help_text="Empty only for inbound-only kinds (webhooks).")
    # Non-secret auth and connector options (client id, token URL, account id, paths...).
    config = models.JSONField(default=dict, blank=True)
    # Secret values (passwords, client secrets, API keys, tokens): Fernet-encrypted JSON.
    credentials_encrypted = models.TextField(blank=True, default="")
    allowed_hosts = models.JSONField(default=list, blank=True, help_text="Extra hosts outbound calls may reach.")

    rate_limit_requests = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests per interval; empty = no limit."
    )
    rate_limit_interval_seconds = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    max_concurrency = models.PositiveIntegerField(default=4, validators=[MinValueValidator(1), MaxValueValidator(256)])
    max_attempts = models.PositiveIntegerField(default=8, validators=[MinValueValidator(1), MaxValueValidator(50)])
    timezone = models.CharField(max_length=64, default="UTC")

    paused = models.BooleanField(default=False)
    paused_reason = models.CharField(max_length=200, blank=True)

    # Circuit breaker (integrations/deliveries/circuit.py), changed only by conditional UPDATEs.
    # Consecutive transient failures of real attempts; any success resets it.
    circuit_failures = models.PositiveIntegerField(default=0, editable=False)
    # Set while the circuit is tripped: held until then, then one probe (half-open).
    circuit_open_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Times opened in a row without a success in between: the cooldown doubles with each.
    circuit_opens = models.PositiveSmallIntegerField(default=0, editable=False)

    verified = models.BooleanField(default=False)
    last_check_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True, blank=True)
    last_check_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_check_error = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.label or self.name

    # Credentials are write-only: set them here, read them only inside connectors.
    def set_credentials(self, values: dict) -> None:
        self.credentials_encrypted = crypto.encrypt_json(values)

    def get_credentials(self) -> dict:
        return crypto.decrypt_json(self.credentials_encrypted)

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)

    @property
    def circuit_held_until(self):
        """When the open circuit lets its next probe through, or None when deliveries flow."""
        until = self.circuit_open_until
        return until if until is not None and until > timezone.now() else None


class MaintenanceWindow(models.Model):
    """Deliveries to the connection are held while a window is open, then drained."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="maintenance_windows")
    kind = models.CharField(max_length=10, choices=WindowKind.choices)
    # weekly: ISO weekday 1 (Monday) .. 7 and a local time range; may cross midnight.
    weekday = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    # one-off: an absolute range.
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["connection", "kind", "weekday", "start_time", "starts_at"]
        constraints = [
            models.CheckConstraint(
                name="window_weekly_fields",
                condition=~models.Q(kind="weekly")
                | models.Q(weekday__isnull=False, start_time__isnull=False, end_time__isnull=False),
            ),
            models.CheckConstraint(
                name="window_one_off_fields",
                condition=~models.Q(kind="one_off")
                | models.Q(starts_at__isnull=False, ends_at__isnull=False, ends_at__gt=models.F("starts_at")),
            ),
        ]

    def __str__(self) -> str:
        if self.kind == "weekly":
            return f"weekly {self.weekday} {self.start_time}-{self.end_time} {self.timezone}"
        return f"{self.starts_at:%Y-%m-%d %H:%M}-{self.ends_at:%Y-%m-%d %H:%M} UTC"
