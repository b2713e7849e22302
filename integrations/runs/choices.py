from django.db import models


class Trigger(models.TextChoices):
    EVENT = "event", "Event"
    SCHEDULE = "schedule", "Schedule"
    POLL = "poll", "Poll"
    MANUAL = "manual", "Manual"
    RETRY = "retry", "Retry"
    REPLAY = "replay", "Replay"
    TEST = "test", "Test"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    WAITING_APPROVAL = "waiting-approval", "Waiting for approval"
    WAITING_DELIVERY = "waiting-delivery", "Waiting for delivery"
    WAITING_BATCH = "waiting-batch", "Waiting for batch"
    WAITING_CHUNKS = "waiting-chunks", "Waiting for chunks"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    HALTED = "halted", "Halted"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.HALTED, RunStatus.CANCELLED)
WAITING = (RunStatus.WAITING_APPROVAL, RunStatus.WAITING_DELIVERY, RunStatus.WAITING_BATCH, RunStatus.WAITING_CHUNKS)


class StepStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    SKIPPED = "skipped", "Skipped"
    WAITING = "waiting", "Waiting"
    FAILED = "failed", "Failed"


class ChunkStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"  # the worker was lost too often: every record is an exception
    SPLIT = "split", "Split"  # lost twice: its records went on as two half chunks


class ExceptionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ASSIGNED = "assigned", "Assigned"
    RETRYING = "retrying", "Retrying"
    RESOLVED = "resolved", "Resolved"
    SKIPPED = "skipped", "Skipped"


ACTIVE_EXCEPTION = (ExceptionStatus.OPEN, ExceptionStatus.ASSIGNED, ExceptionStatus.RETRYING)


class Classification(models.TextChoices):
    PERMANENT = "permanent", "Permanent"
    TRANSIENT = "transient", "Transient (retries exhausted)"
    WORKER_LOST = "worker_lost", "Worker lost"
    APPROVAL_REJECTED = "approval_rejected", "Approval rejected"
    # A delivery whose write may or may not have landed (unclear outcomes ran out, the record
    # was not found): check the target before retrying, or resolve.
    UNCERTAIN = "uncertain", "Uncertain (may have been posted)"
    # A change from a system that does not own the field was held back (crosswalk ownership):
    # keep the owner's value, take the other, or change the rule (/crosswalk/conflicts/).
    CONFLICT = "conflict", "Ownership conflict"


class BatchStatus(models.TextChoices):
    OPEN = "open", "Open"
    FLUSHING = "flushing", "Flushing"
    DONE = "done", "Done"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
