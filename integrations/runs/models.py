"""Runs, their step runs, exceptions (the dead-letter queue for people), batches, bulk jobs."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from integrations.runs.choices import (
    BatchStatus,
    ChunkStatus,
    Classification,
    ExceptionStatus,
    JobStatus,
    RunStatus,
    StepStatus,
    Trigger,
)


class Run(models.Model):
    """One execution of one flow version on one event (or tick / manual payload).

    A run is unique per (flow version, event, sequence): the run an inbound event creates has
    sequence 0, so a duplicate event can never make a second one; an explicit replay or retry
    of the same event takes the next sequence number."""

    flow_version = models.ForeignKey("flows.FlowVersion", on_delete=models.PROTECT, related_name="runs")
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.PROTECT, related_name="runs")
    sequence = models.PositiveIntegerField(default=0)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    business_key = models.CharField(max_length=200, blank=True, db_index=True)
    input = models.JSONField(null=True, blank=True, help_text="The record; empty = the event's payload.")
    # Engine state of a suspended run, and where/how to resume it.
    state = models.JSONField(null=True, blank=True)
    start_at = models.CharField(max_length=64, blank=True)
    resume = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    # Batch flows (definition `for_each`): `chunked` once the input was split into RunChunks;
    # `item` names the one record of a batch run that this run retries ("record:17").
    chunked = models.BooleanField(default=False)
    item = models.CharField(max_length=64, blank=True)
    is_test = models.BooleanField(default=False)
    # The broker lane its executions are claimed from (integrations/runs/lanes.py): "bulk" for
    # runs a poll, a replay or a bulk job made, until they first start; "default" otherwise.
    lane = models.CharField(max_length=10, default="default", db_default="default")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Claim, lease and fencing (docs/RELIABILITY.md §3): a worker owns the run while lease_until > now.
    lease_until = models.DateTimeField(null=True, blank=True)
    fence = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    worker_losses = models.PositiveSmallIntegerField(default=0)
    # Executions cut short by a database error, given back at once (integrations/leases.py):
    # counted apart from worker_losses, so a database outage never fails a run as worker_lost.
    db_errors = models.PositiveSmallIntegerField(default=0, db_default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow_version", "event", "sequence"],
                condition=Q(event__isnull=False),
                name="run_unique_per_version_event",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["status", "lease_until"]),
            # Batch claims: the due runs of one lane, per flow version, oldest first (claims.py).
            models.Index(fields=["status", "lane", "flow_version", "next_attempt_at", "id"], name="run_due_by_lane"),
            # The run history pages newest first by (created_at, id), overall, by status and by version.
            models.Index(fields=["created_at", "id"], name="run_recent"),
            models.Index(fields=["status", "created_at", "id"], name="run_status_recent"),
            models.Index(fields=["flow_version", "created_at", "id"], name="run_version_recent"),
            # "what happened with PRJ-0042?": one key's runs, newest first, however many it has.
            models.Index(fields=["business_key", "created_at", "id"], name="run_key_recent"),
            models.Index(fields=["created_at", "id"], condition=Q(retry_of__isnull=False), name="run_retries_recent"),
            models.Index(
                fields=["flow_version", "created_at", "id"],
                condition=Q(retry_of__isnull=False),
                name="run_version_retries",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.flow_version}, {self.status})"

    @property
    def flow(self):
        return self.flow_version.flow

    @property
    def record(self):
        if self.input is not None:
            return self.input
        return self.event.payload if self.event_id else {}


class StepRun(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    step_id = models.CharField(max_length=64)
    type = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=StepStatus.choices)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    detail = models.JSONField(null=True, blank=True)
    duration_ms = models.FloatField(default=0)
    attempt = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.step_id} {self.status}"


class RunException(models.Model):
    """An exception (docs/ARCHITECTURE.md#vocabulary): a run stopped by an error that needs a person."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="exceptions")
    flow = models.ForeignKey("flows.Flow", on_delete=models.CASCADE, related_name="exceptions")
    step_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=10, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN, db_index=True
    )
    classification = models.CharField(max_length=20, choices=Classification.choices)
    kind = models.CharField(
        max_length=40, blank=True, help_text="Engine error kind, e.g. mapping, validation, http_422."
    )
    message = models.TextField()
    message_signature = models.CharField(
        max_length=64, db_index=True, help_text="Message with ids/numbers blanked: groups alike failures."
    )
    field = models.CharField(max_length=200, blank=True)
    # Within a batch run: which record, group or delivery failed ("record:17"); '' otherwise.
    item = models.CharField(max_length=64, blank=True)
    business_key = models.CharField(max_length=200, blank=True, db_index=True)
    delivery_id = models.BigIntegerField(null=True, blank=True, help_text="The dead delivery, when a delivery failed.")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.JSONField(default=list, blank=True)
    resolution_reason = models.TextField(blank=True)
    original_input = models.JSONField(null=True, blank=True, help_text="Input of the failed step; never edited.")
    # [{"revision": n, "input": {...}, "diff": {field: [old, new]}, "by": username, "at": iso}]
    input_revisions = models.JSONField(default=list, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)
    duplicate_count = models.PositiveIntegerField(default=1)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "exception"
        ordering = ["-last_seen", "-id"]
        # The queue pages newest first by (last_seen, id), per tab (status) or across tabs.
        indexes = [
            models.Index(fields=["status", "-last_seen", "-id"], name="exception_status_recent"),
            models.Index(fields=["-last_seen", "-id"], name="exception_recent"),
            # Open exceptions counted per flow and step (the dashboard's failures by stage)
            # from the index alone.
            models.Index(fields=["status", "flow", "step_id"], name="exception_status_stage"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "item"],
                condition=Q(status__in=["open", "assigned", "retrying"]),
                name="one_active_exception_per_run_item",
            ),
        ]

    def __str__(self) -> str:
        return f"exception {self.pk} ({self.flow.key}/{self.step_id}: {self.message[:60]})"

    @property
    def current_input(self):
        return self.input_revisions[-1]["input"] if self.input_revisions else self.original_input


class ExceptionComment(models.Model):
    exception = models.ForeignKey(RunException, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on exception {self.exception_id}"


class RunChunk(models.Model):
    """A slice of a batch run's records, claimed and fenced like a run (docs/RELIABILITY.md §3).

    The records live on the chunk (not as index ranges into the run's input) so a worker
    reads only its own slice instead of re-parsing the whole input once per chunk."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first = models.PositiveIntegerField(help_text="Position of the chunk's first record in the run's list.")
    records = models.JSONField()
    positions = models.JSONField(
        null=True,
        blank=True,
        help_text="Positions of the records in the run's list when they are not consecutive from `first`.",
    )
    retries = models.PositiveSmallIntegerField(
        default=0, help_text="Transient failures these records have already had (lookups retried with backoff)."
    )
    status = models.CharField(max_length=10, choices=ChunkStatus.choices, default=ChunkStatus.QUEUED)
    lease_until = models.DateTimeField(null=True, blank=True)
    fence = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    worker_losses = models.PositiveSmallIntegerField(default=0)
    db_errors = models.PositiveSmallIntegerField(default=0, db_default=0)  # as on Run
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # Written once, with the fence, when the chunk is done.
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    groups = models.JSONField(null=True, blank=True, help_text="{group_key: [record, ...]} at the batch step.")
    outputs = models.JSONField(null=True, blank=True, help_text="Final records of the records that completed.")
    duration_ms = models.FloatField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="one_chunk_per_run_index")]
        indexes = [models.Index(fields=["status", "next_attempt_at"]), models.Index(fields=["status", "lease_until"])]

    def __str__(self) -> str:
        return f"chunk {self.index} of run {self.run_id} ({self.status})"

    def record_positions(self) -> list[int]:
        return self.positions or list(range(self.first, self.first + len(self.records)))


class Batch(models.Model):
    """Records collected by a batch step; completion by conditional update, never chords."""

    flow_version = models.ForeignKey("flows.FlowVersion", on_delete=models.CASCADE, related_name="batches")
    step_id = models.CharField(max_length=64)
    group_key = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=BatchStatus.choices, default=BatchStatus.OPEN)
    size = models.PositiveIntegerField(default=0)
    max_size = models.PositiveIntegerField(default=100)
    flush_at = models.DateTimeField(null=True, blank=True)
    done_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(auto_now_add=True)
    flushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow_version", "step_id", "group_key"],
                condition=Q(status="open"),
                name="one_open_batch_per_group",
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.step_id}/{self.group_key}, {self.status}, {self.size})"


class BatchItem(models.Model):
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items")
    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="batch_item")
    record = models.JSONField()

    def __str__(self) -> str:
        return f"run {self.run_id} in batch {self.batch_id}"


class BatchGroup(models.Model):
    """A group of a batch flow's `batch` step with an `item_key`: it gathers records across
    runs (the pages of a poll, and later polls) until it holds `max_size` records or is
    `max_wait` old, then is flushed once (open → done under its row lock, in the same
    transaction that requests its deliveries) by the run that filled it or by a run of its
    own made for the flush (`flushed_by`). integrations/runs/batch/accumulate.py"""

    flow_version = models.ForeignKey("flows.FlowVersion", on_delete=models.CASCADE, related_name="batch_groups")
    step_id = models.CharField(max_length=64)
    group_key = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=BatchStatus.choices, default=BatchStatus.OPEN)
    size = models.PositiveIntegerField(default=0)
    max_size = models.PositiveIntegerField()
    flush_at = models.DateTimeField()
    opened_at = models.DateTimeField(auto_now_add=True)
    flushed_at = models.DateTimeField(null=True, blank=True)
    flushed_by = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["flow_version", "step_id", "group_key"],
                condition=Q(status="open"),
                name="one_open_group_per_key",
            ),
        ]
        indexes = [models.Index(fields=["status", "flush_at"], name="batch_group_due")]

    def __str__(self) -> str:
        return f"group {self.pk} ({self.step_id}/{self.group_key}, {self.status}, {self.size})"


class GroupedRecord(models.Model):
    """One record filed in a BatchGroup. Unique per flow, step and item key: a record polled
    again, replayed or re-run after a lost worker is never filed (nor billed) twice."""

    flow = models.ForeignKey("flows.Flow", on_delete=models.CASCADE, related_name="+")
    step_id = models.CharField(max_length=64)
    item_key = models.CharField(max_length=200)
    group = models.ForeignKey(BatchGroup, on_delete=models.CASCADE, related_name="records")
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    record = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flow", "step_id", "item_key"], name="record_filed_once_per_flow_step"),
        ]

    def __str__(self) -> str:
        return f"{self.item_key} in group {self.group_id}"


class BulkJob(models.Model):
    """A bulk action over every exception matching a filter, processed in chunks by a task."""

    action = models.CharField(max_length=20)
    filters = models.JSONField(default=dict)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"bulk {self.action} job {self.pk} ({self.processed}/{self.total})"


class HeldDelivery(models.Model):
    """A write a batch flow asked for `after` another delivery (a deliver step's `after`, e.g.
    the billed status written back to each Kantata entry after its NetSuite time bill): held
    here, in the transaction that requested the other delivery, and requested from the ledger
    (bulk, keys unique there) once that delivery has SUCCEEDED — never before, never twice.
    integrations/runs/batch/held.py"""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="held_deliveries")
    step_id = models.CharField(max_length=64)
    after_key = models.CharField(max_length=255)  # the ledger key it waits for
    key = models.CharField(max_length=255, unique=True)  # its own ledger key
    connection = models.ForeignKey("connections.Connection", on_delete=models.PROTECT, related_name="+")
    object = models.CharField(max_length=100)
    action = models.CharField(max_length=10)
    payload = models.JSONField(default=dict)
    external_id_field = models.CharField(max_length=100, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["after_key"], condition=Q(released_at__isnull=True), name="held_delivery_waiting"),
            # Retention finds the released rows past their time oldest first (batch/retention.py).
            models.Index(fields=["released_at"], condition=Q(released_at__isnull=False), name="held_delivery_released"),
        ]

    def __str__(self) -> str:
        return f"{self.key} after {self.after_key}"
