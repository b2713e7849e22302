"""Thin Celery wrappers: ids in, one service call. Retries and backoff live in the ledger
(`next_attempt_at` + the dispatcher), never in Celery countdowns or ETAs."""

from celery import shared_task

from integrations.deliveries import conf, dispatcher, retention, sender


@shared_task(acks_late=True, reject_on_worker_lost=True, bind=True)
def deliver_deliveries(self, delivery_ids: list[int]) -> dict:
    return sender.deliver_chunk(delivery_ids[: conf.MAX_CHUNK], task_id=self.request.id or "")


@shared_task(expires=10)
def dispatch_deliveries() -> int:
    return dispatcher.dispatch_due()


@shared_task(expires=30)
def sweep_deliveries() -> int:
    return dispatcher.sweep_expired()


@shared_task(expires=600)
def prune_throttle_events() -> int:
    return retention.prune_throttle_events()
