"""Ledger knobs, read from settings (env-driven there) with safe defaults."""

from django.conf import settings

MAX_WORKER_LOSSES = 3  # a poison record cannot loop (docs/RELIABILITY.md §11.3)
MAX_CHUNK = 100  # ids per Celery message


def lease_seconds() -> int:
    return int(getattr(settings, "SWITCHBOARD_LEASE_SECONDS", 600))


def backoff_base_seconds() -> float:
    return float(getattr(settings, "SWITCHBOARD_BACKOFF_BASE_SECONDS", 2.0))


def backoff_cap_seconds() -> float:
    return float(getattr(settings, "SWITCHBOARD_BACKOFF_CAP_SECONDS", 600.0))


def redispatch_seconds() -> int:
    """A due row enqueued this long ago without being claimed is enqueued again
    (its message was lost with the broker, or sits behind a dead worker)."""
    return int(getattr(settings, "SWITCHBOARD_REDISPATCH_SECONDS", 60))


def task_expires_seconds() -> int:
    """`expires` on every delivery message: an old message is dropped, the dispatcher re-sends."""
    return max(redispatch_seconds() * 2, 30)


def outstanding_cap() -> int:
    """Rows per connection enqueued and not yet finished, at most. Keep it small enough that
    the workers get through it within the redispatch interval."""
    return int(getattr(settings, "SWITCHBOARD_DISPATCH_OUTSTANDING", 400))


def chunk_budget_seconds() -> float:
    """How long one delivery message may keep sending: half the task's soft time limit."""
    return float(getattr(settings, "CELERY_TASK_SOFT_TIME_LIMIT", 240)) / 2


# Circuit breaker (circuit.py); a connection's `config.circuit_threshold`,
# `config.circuit_cooldown_seconds` and `config.circuit_max_cooldown_seconds` override these.
def circuit_threshold() -> int:
    """Consecutive transient failures that open a connection's circuit; 0 turns the breaker off."""
    return int(getattr(settings, "SWITCHBOARD_CIRCUIT_THRESHOLD", 5))


def circuit_cooldown_seconds() -> float:
    return float(getattr(settings, "SWITCHBOARD_CIRCUIT_COOLDOWN_SECONDS", 30.0))


def circuit_max_cooldown_seconds() -> float:
    return float(getattr(settings, "SWITCHBOARD_CIRCUIT_MAX_COOLDOWN_SECONDS", 600.0))


def circuit_probe_seconds() -> float:
    """How long a half-open circuit waits on its probe before letting another one try."""
    return float(getattr(settings, "SWITCHBOARD_CIRCUIT_PROBE_SECONDS", 120.0))
