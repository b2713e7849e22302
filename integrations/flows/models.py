"""Flows and their versions: one editable draft, immutable published versions."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from integrations.flows.choices import FlowStatus, VersionState


class Flow(models.Model):
    key = models.SlugField(max_length=64, unique=True, help_text="Stable name used in URLs and the API.")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=FlowStatus.choices, default=FlowStatus.DRAFT)
    tags = models.JSONField(default=list, blank=True)
    invoke_delivers_inline = models.BooleanField(
        default=False,
        help_text="POST /flows/<key>/invoke sends its deliveries within the request (through the ledger) "
        "instead of queueing them.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name or self.key

    @property
    def draft(self):
        return self.versions.filter(state=VersionState.DRAFT).first()

    @property
    def live_version(self):
        """The newest published version: what events and schedules run."""
        return self.versions.filter(state=VersionState.PUBLISHED).order_by("-number").first()


class FlowVersion(models.Model):
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="versions")
    state = models.CharField(max_length=10, choices=VersionState.choices, default=VersionState.DRAFT)
    number = models.PositiveIntegerField(null=True, blank=True, help_text="Set on publish; drafts have none.")
    definition = models.JSONField(default=dict)
    content_hash = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["flow", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["flow"], condition=Q(state="draft"), name="one_draft_per_flow"),
            models.UniqueConstraint(
                fields=["flow", "number"], condition=Q(number__isnull=False), name="version_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(state="draft", number__isnull=True) | Q(state="published", number__isnull=False),
                name="published_versions_have_a_number",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.flow.key} v{self.number}" if self.number else f"{self.flow.key} draft"

    @property
    def is_published(self) -> bool:
        return self.state == VersionState.PUBLISHED


class Watermark(models.Model):
    """Poll position per flow, connection and object; advanced only after events are stored."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="watermarks")
    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    object = models.CharField(max_length=64)
    position = models.CharField(max_length=200, blank=True)
    cursor = models.CharField(max_length=500, blank=True, help_text="Paging cursor of a poll in progress.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flow", "connection", "object"], name="one_watermark_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.flow.key}:{self.connection.name}:{self.object}@{self.position}"


class PublishRequest(models.Model):
    """Four-eyes publish: a draft that delivers to an ERP waits here until a second person with
    publish rights approves it. The request pins the draft's content hash, so approving publishes
    exactly what was asked for; a draft edited since then must be requested again."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for a second person"
        APPROVED = "approved", "Approved and published"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="publish_requests")
    content_hash = models.CharField(max_length=64)
    notes = models.TextField()
    override_reason = models.TextField(blank=True, help_text="Why failing regression samples were overridden.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    version = models.ForeignKey(FlowVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["flow"], condition=Q(state="pending"), name="one_pending_publish_request")
        ]

    def __str__(self) -> str:
        return f"{self.flow.key} publish request #{self.pk}"
