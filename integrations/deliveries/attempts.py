"""Attempt rows: one per claim, with the redacted excerpts of the HTTP calls it made.

The connector's HTTP module redacts secrets before an `Attempt` reaches us; we keep the
last call's excerpts, truncated, never the credentials or headers."""

from datetime import datetime

from django.utils import timezone

from integrations.connectors.http import Attempt
from integrations.deliveries.choices import Outcome
from integrations.deliveries.models import Delivery, DeliveryAttempt

EXCERPT_CHARS = 2000


class AttemptLog:
    """Collects the HTTP calls of one attempt (pass `.hook` as the connector's `on_attempt`)."""

    def __init__(self, delivery: Delivery, fence: int, task_id: str = ""):
        self.delivery, self.fence, self.task_id = delivery, fence, task_id
        self.started_at = timezone.now()
        self.calls: list[Attempt] = []

    def hook(self, call: Attempt) -> None:
        self.calls.append(call)

    def save(self, outcome: str, *, status_code: int | None = None, error: str = "") -> DeliveryAttempt:
        attempt = self.row(outcome, status_code=status_code, error=error)
        attempt.save(force_insert=True)
        return attempt

    def row(self, outcome: str, *, status_code: int | None = None, error: str = "") -> DeliveryAttempt:
        """The attempt's row, not saved yet (a round's attempts are inserted together)."""
        last = self.calls[-1] if self.calls else None
        finished = timezone.now()
        return DeliveryAttempt(
            delivery=self.delivery,
            fence=self.fence,
            started_at=self.started_at,
            finished_at=finished,
            outcome=outcome,
            status_code=status_code if status_code is not None else getattr(last, "status_code", None),
            duration_ms=int((finished - self.started_at).total_seconds() * 1000),
            http_calls=len(self.calls),
            request_excerpt=_cut(getattr(last, "request_excerpt", "")),
            response_excerpt=_cut(getattr(last, "response_excerpt", "")),
            error=_cut(error),
            task_id=self.task_id[:64],
        )


def _cut(text: str) -> str:
    text = text or ""
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


def log_worker_lost(delivery: Delivery, fence: int, now: datetime) -> DeliveryAttempt:
    return DeliveryAttempt.objects.create(
        delivery=delivery,
        fence=fence,
        started_at=now,
        finished_at=now,
        outcome=Outcome.WORKER_LOST,
        error=f"worker lost {delivery.worker_losses} times; dead-lettered without sending",
    )
