"""What a failed attempt means for the ledger (docs/RELIABILITY.md). Pure: no ORM, no network.

An *unclear* attempt is one whose write may still land after we stopped waiting (a timeout,
a dropped answer, a 504) against a target with no idempotent write for it (transport.py
decides). The target may commit it seconds later, so the next attempt waits at least the
connection's settle time and looks the record up first; when the unclear attempts have run
out and the record is still not found, the delivery is `uncertain` for a person, never
posted again."""

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
    unclear: bool = False  # counts toward the connection's unclear-attempt limit


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
    unclear: bool = False,
    settle_seconds: float = 0.0,
    uncertain: bool = False,
) -> Verdict:
    """Retry later, or dead now? `attempts` counts the attempt that just failed.

    A target that throttles (see `is_throttled`) is not failing: that attempt does not count
    toward `max_attempts`, so a 429 storm delays deliveries but never dead-letters them.
    `unclear`: the write may still be committed later (see the module docstring); the next
    attempt waits at least `settle_seconds`. `uncertain`: unclear attempts ran out and the
    look-up found nothing."""
    if uncertain:
        return Verdict(DeliveryState.DEAD, Classification.UNCERTAIN, needs_lookup=True)
    if status_code in PERMANENT_STATUSES or not transient:
        return Verdict(DeliveryState.DEAD, Classification.PERMANENT)
    may_have_applied = ambiguous or (status_code is not None and status_code >= 500)
    if attempts >= max_attempts and not is_throttled(status_code, retry_after):
        return Verdict(DeliveryState.DEAD, Classification.EXHAUSTED, needs_lookup=may_have_applied)
    delay = backoff.delay_seconds(attempts, retry_after=retry_after, base=base, cap=cap)
    if unclear:
        delay = max(delay, settle_seconds)
    return Verdict(
        DeliveryState.FAILED_RETRYABLE, Classification.TRANSIENT, delay, may_have_applied or unclear, unclear
    )


def is_throttled(status_code: int | None, retry_after: float | None) -> bool:
    """429, or 503 with Retry-After: the target asks us to come back later, nothing failed."""
    return status_code == 429 or (status_code == 503 and retry_after is not None)
