"""Thin Celery wrappers: ids in, one service call. Retries and backoff live in the ledger
(`next_attempt_at` + the dispatcher), never in Celery countdowns or ETAs."""

from __future__ import annotations  # `Task[...]` is generic only in the type stubs

from celery import Task, shared_task

from integrations import backoff, leases
from integrations.deliveries import conf, dispatcher, retention, sender


@shared_task(acks_late=True, reject_on_worker_lost=True, bind=True)
def deliver_deliveries(self: Task[[list[int]], dict[str, int]], delivery_ids: list[int]) -> dict[str, int]:
    """Rows still claimed when a database error or a second SIGTERM cuts the chunk short are
    given back at once (integrations/leases.py). Rows a stopping worker hands back are due
    now and enqueued again at once instead of at the dispatcher's next pass; after a database
    error they are due after a backoff, and the dispatcher sends them then."""
    counts: dict[str, int] = {}
    with leases.holding(retry_at=backoff.next_attempt_at) as held:
        counts = sender.deliver_chunk(
            delivery_ids[: conf.MAX_CHUNK],
            task_id=self.request.id or "",
            redelivered=bool((self.request.delivery_info or {}).get("redelivered")),
            hostname=self.request.hostname or "",
        )
    if held.stopped and (held.released or counts.get("released")):
        dispatcher.dispatch_due()
    return counts if not held.database_error else {**counts, "database_error": len(held.released)}


@shared_task(expires=10)
def dispatch_deliveries() -> int:
    return dispatcher.dispatch_due()


@shared_task(expires=30)
def sweep_deliveries() -> int:
    return dispatcher.sweep_expired()


@shared_task(expires=600)
def prune_throttle_events() -> int:
    return retention.prune_throttle_events()
