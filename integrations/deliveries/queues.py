"""One broker queue per connection, so one slow target cannot starve the others
(docs/ARCHITECTURE.md#lanes-and-queues). Workers start with `--queues default` and pick up `deliveries.<connection id>`:

- at start (`worker_ready`, wired in studio/celery.py) for every existing connection;
- when a connection is created, by a non-blocking `add_consumer` broadcast after commit;
- again whenever the dispatcher re-sends rows whose first message went unclaimed, so a lost
  broadcast (worker down, broker restarted) costs one redispatch interval, never the rows.
"""

import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from celery import current_app
from django.db import connections, transaction

from integrations.connections.models import Connection
from integrations.deliveries.models import Delivery

logger = logging.getLogger("integrations.deliveries")

PREFIX = "deliveries."
DELIVER_TASK = "integrations.deliveries.tasks.deliver_deliveries"


def queue_name(connection_id: int) -> str:
    return f"{PREFIX}{connection_id}"


def route(
    name: str,
    args: Sequence[Any] | None,
    kwargs: dict[str, Any] | None,
    options: dict[str, Any],
    task: object = None,
    **kw: object,
) -> dict[str, str] | None:
    """Celery router (CELERY_TASK_ROUTES): a delivery message sent without a queue goes to
    the queue of its first row's connection. The dispatcher names the queue itself (it
    groups chunks by connection), so this costs a query only for ad-hoc senders."""
    if name != DELIVER_TASK or options.get("queue") or not args or not args[0]:
        return None
    connection_id = Delivery.objects.filter(pk=args[0][0]).values_list("connection_id", flat=True).first()
    return {"queue": queue_name(connection_id)} if connection_id else None


def consume_all(consumer: Any) -> list[str]:
    """worker_ready: consume every connection's queue (the worker's own consumer, no broadcast).
    `consumer` is celery's worker Consumer (celery ships no types)."""
    try:
        names = [queue_name(pk) for pk in Connection.objects.order_by("pk").values_list("pk", flat=True)]
    finally:
        if not connections["default"].in_atomic_block:
            connections.close_all()  # never hand an open socket to pool children forked later
    for name in names:
        consumer.add_task_queue(name)
    return names


def on_connection_saved(
    sender: type[Connection], instance: Connection, created: bool, raw: bool = False, **kwargs: object
) -> None:
    """post_save of a Connection (apps.py): a new connection's queue is announced after commit."""
    if created and not raw:
        transaction.on_commit(lambda: announce([instance.pk]))


def announce(connection_ids: Iterable[int]) -> None:
    """Ask running workers to consume these connections' queues, from a daemon thread: a
    broadcast to an unreachable broker retries for seconds, which no caller should wait for."""
    ids = sorted(set(connection_ids))
    if ids:
        threading.Thread(target=_broadcast, args=(ids,), name="announce-queues", daemon=True).start()


def _broadcast(connection_ids: list[int]) -> None:
    for connection_id in connection_ids:
        try:
            current_app.control.add_consumer(queue_name(connection_id), reply=False)
        except Exception:  # broker down: workers learn it at start or on the next redispatch
            logger.warning("add_consumer broadcast for connection %s failed", connection_id, exc_info=True)
