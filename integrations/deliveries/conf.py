"""Ledger knobs, read from settings (env-driven and defaulted there; the few not declared
there have their default here)."""

from django.conf import settings

from integrations import backoff, leases

MAX_WORKER_LOSSES = leases.MAX_WORKER_LOSSES
MAX_CHUNK = 100  # ids per Celery message


# One lease and one backoff policy for the whole runtime: declared in the kernel modules.
lease_seconds = leases.lease_seconds
backoff_base_seconds = backoff.base_seconds
backoff_cap_seconds = backoff.cap_seconds
redispatch_seconds = leases.redispatch_seconds
chunk_budget_seconds = leases.task_budget_seconds


def task_expires_seconds() -> int:
    """`expires` on every delivery message: an old message is dropped, the dispatcher re-sends."""
    return max(redispatch_seconds() * 2, 30)


def outstanding_cap() -> int:
    """Rows per connection enqueued and not yet finished, at most. Keep it small enough that
    the workers get through it within the redispatch interval."""
    return int(getattr(settings, "SWITCHBOARD_DISPATCH_OUTSTANDING", 400))


# Circuit breaker (circuit.py); a connection's `config.circuit_threshold`,
# `config.circuit_cooldown_seconds` and `config.circuit_max_cooldown_seconds` override these.
def circuit_threshold() -> int:
    """Consecutive transient failures that open a connection's circuit; 0 turns the breaker off."""
    return int(settings.SWITCHBOARD_CIRCUIT_THRESHOLD)


def circuit_cooldown_seconds() -> float:
    return float(settings.SWITCHBOARD_CIRCUIT_COOLDOWN_SECONDS)


def circuit_max_cooldown_seconds() -> float:
    return float(settings.SWITCHBOARD_CIRCUIT_MAX_COOLDOWN_SECONDS)


def circuit_probe_seconds() -> float:
    """How long a half-open circuit waits on its probe before letting another one try."""
    return float(getattr(settings, "SWITCHBOARD_CIRCUIT_PROBE_SECONDS", 120.0))
