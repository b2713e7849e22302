from django.db import models


class DeliveryState(models.TextChoices):
    PENDING = "PENDING", "Pending"
    IN_FLIGHT = "IN_FLIGHT", "In flight"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED_RETRYABLE = "FAILED_RETRYABLE", "Failed, will retry"
    DEAD = "DEAD", "Dead"


DUE_STATES = (DeliveryState.PENDING, DeliveryState.FAILED_RETRYABLE)
TERMINAL_STATES = (DeliveryState.SUCCEEDED, DeliveryState.DEAD)


class Outcome(models.TextChoices):
    """How one attempt (one claim of a delivery) ended."""

    SUCCEEDED = "succeeded", "Succeeded"
    FOUND = "found", "Found by external reference"
    RETRYABLE = "retryable", "Failed, will retry"
    DEAD = "dead", "Failed permanently"
    EXHAUSTED = "exhausted", "Attempts exhausted"
    WORKER_LOST = "worker_lost", "Worker lost"
    STALE = "stale", "Stale fence (result discarded)"
    UNCERTAIN = "uncertain", "Uncertain: not found, not posted again"


class Classification(models.TextChoices):
    TRANSIENT = "transient", "Transient"
    PERMANENT = "permanent", "Permanent"
    EXHAUSTED = "exhausted", "Attempts exhausted"
    WORKER_LOST = "worker_lost", "Worker lost"
    # Unclear attempts ran out against a target with no idempotent write: the record may or
    # may not be there, and posting again could make a second one. A person decides.
    UNCERTAIN = "uncertain", "Uncertain (may have been posted)"
