"""Reconciliation runs and what they found.

A run compares one object (workers, projects or approved hours) across the systems that
hold it. While it streams the systems page by page it writes what each system says about
each key as an `Entry` (so memory holds one page, never a whole system); then it walks the
entries in key order and writes one `Result` per key: matched, missing (absent from some
system) or mismatched (present everywhere, values differ). A result that is not matched
needs a person: it stays open until someone resolves it with a reason."""

from django.conf import settings
from django.db import models


class Job(models.TextChoices):
    WORKERS = "workers", "Workers (HR ↔ PSA ↔ ERP)"
    PROJECTS = "projects", "Projects (CRM ↔ PSA ↔ ERP)"
    HOURS = "hours", "Approved hours (PSA ↔ ERP, per project and month)"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Outcome(models.TextChoices):
    MATCHED = "matched", "Matched"
    MISSING = "missing", "Missing"
    MISMATCHED = "mismatched", "Mismatched"


class ReconciliationRun(models.Model):
    job = models.CharField(max_length=10, choices=Job.choices)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    systems = models.JSONField(default=dict, help_text="role → connection name compared")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    records = models.JSONField(default=dict, help_text="connection name → records read")
    matched = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)
    mismatched = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_by = models.CharField(max_length=150, blank=True, help_text="user name, or 'system:schedule'")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["job", "-started_at"], name="reconcile_run_latest")]

    def __str__(self) -> str:
        return f"reconciliation {self.pk} ({self.job}, {self.status})"


class Entry(models.Model):
    """What one system says about one key during a run (deleted when the run ends)."""

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="entries")
    key = models.CharField(max_length=200)
    system = models.CharField(max_length=64)
    external_id = models.CharField(max_length=255, blank=True)
    label = models.CharField(max_length=255, blank=True)
    values = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["run", "key"], name="reconcile_entry_key")]

    def __str__(self) -> str:
        return f"{self.system}:{self.key}"


class ResultState(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Result(models.Model):
    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="results")
    key = models.CharField(max_length=200)
    label = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    present = models.JSONField(default=dict, help_text="connection name → its id for this key")
    missing_in = models.JSONField(default=list)
    differences = models.JSONField(default=list, help_text='[{"field", "values": {system: value}}]')
    state = models.CharField(max_length=10, choices=ResultState.choices, default=ResultState.OPEN)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["key", "id"]
        indexes = [
            models.Index(fields=["run", "outcome", "key"], name="reconcile_result_outcome"),
            models.Index(fields=["outcome", "state"], name="reconcile_result_open"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.outcome}"

    @property
    def needs_person(self) -> bool:
        return self.outcome != Outcome.MATCHED and self.state == ResultState.OPEN
