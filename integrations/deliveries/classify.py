"""What a failed attempt means for the ledger (RELIABILITY §6). Pure: no ORM, no network."""

from dataclasses import dataclass

from integrations import backoff
from integrations.deliveries.choices import Classification, DeliveryState

# A 4xx the target will answer the same way next time: retrying cannot help.
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 409, 410, 413, 415, 422})


@dataclass(frozen=True)
class Verdict:
    state: str  # FAILED_RETRYABLE or DEAD
    classification: str
    delay_seconds: float = 0.0  # until the next attempt, for FAILED_RETRYABLE
    needs_lookup: bool = False  # the attempt may have reached the target


def judge(
    *,
    transient: bool,
    status_code: int | None,
    retry_after: float | None,
    ambiguous: bool,
    attempts: int,
    max_attempts: int,
    base: float,
    cap: float,
) -> Verdict:
    """Retry later, or dead now? `attempts` counts the attempt that just failed.

    A target that throttles (see `is_throttled`) is not failing: that attempt does not count
    toward `max_attempts`, so a 429 storm delays deliveries but never dead-letters them."""
    if status_code in PERMANENT_STATUSES or not transient:
        return Verdict(DeliveryState.DEAD, Classification.PERMANENT)
    may_have_applied = ambiguous or (status_code is not None and status_code >= 500)
    if attempts >= max_attempts and not is_throttled(status_code, retry_after):
        return Verdict(DeliveryState.DEAD, Classification.EXHAUSTED, needs_lookup=may_have_applied)
    delay = backoff.delay_seconds(attempts, retry_after=retry_after, base=base, cap=cap)
    return Verdict(DeliveryState.FAILED_RETRYABLE, Classification.TRANSIENT, delay, may_have_applied)


def is_throttled(status_code: int | None, retry_after: float | None) -> bool:
    """429, or 503 with Retry-After: the target asks us to come back later, nothing failed."""
    return status_code == 429 or (status_code == 503 and retry_after is not None)
