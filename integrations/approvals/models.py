"""Approval tasks: a run waits in waiting-approval until a person (or the expiry rule) decides."""

from django.conf import settings
from django.db import models

from integrations.approvals.choices import ApprovalStatus, OnExpiry


class ApprovalTask(models.Model):
    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="approvals")
    step_id = models.CharField(max_length=64)
    group = models.CharField(max_length=80, blank=True, help_text="Who may decide, e.g. 'delivery-leads'.")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approvers = models.JSONField(
        default=dict, blank=True, help_text='As the step said: {"group"}, {"users"} or {"user"}.'
    )
    policy = models.CharField(
        max_length=3, default="any", help_text="any: one approval decides; all: every listed user."
    )
    # Approvals so far under policy "all": [{"by": username, "at": iso, "comment": ...}].
    approvals_so_far = models.JSONField(default=list, blank=True)
    title = models.CharField(max_length=200, blank=True)
    record = models.JSONField(default=dict, help_text="What is being approved, as the step saw it.")
    status = models.CharField(
        max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING, db_index=True
    )
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    on_expiry = models.CharField(max_length=10, choices=OnExpiry.choices, default=OnExpiry.ESCALATE)
    escalated_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "created_at"]
        constraints = [models.UniqueConstraint(fields=["run", "step_id"], name="one_approval_per_run_step")]

    def __str__(self) -> str:
        return f"approval {self.pk} ({self.step_id}, {self.status})"
