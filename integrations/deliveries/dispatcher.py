"""The relay (RELIABILITY §2) and the sweeper, run by beat every second or two.

`dispatch_due` selects due rows oldest-first (FOR UPDATE SKIP LOCKED on PostgreSQL, so two
dispatchers never pick the same rows), skips held connections, marks `enqueued_at` and,
after commit, enqueues chunks of ids. No countdowns, no ETAs: a row that is not due yet
simply is not selected. A row enqueued long ago and still due (its message was lost with
Redis, or reserved by a killed worker) is selected again; a duplicate message is harmless
because the claim lets only one attempt through.
"""

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.deliveries import conf, ledger
from integrations.deliveries.choices import DUE_STATES
from integrations.deliveries.holds import held_connection_ids
from integrations.deliveries.models import Delivery

logger = logging.getLogger("integrations.deliveries")

Sender = Callable[[list[int], str], None]  # (ids, queue name) -> enqueue one message


def enqueue_chunk(ids: list[int], queue: str) -> None:
    from integrations.deliveries.tasks import deliver_deliveries

    deliver_deliveries.apply_async(args=[ids], queue=queue, expires=conf.task_expires_seconds())


def queue_for(connection_name: str, per_connection: bool) -> str:
    return f"conn.{connection_name}" if per_connection else "default"


def dispatch_due(
    *,
    now: datetime | None = None,
    limit: int = 2000,
    chunk_size: int = conf.MAX_CHUNK,
    send: Sender | None = None,
    per_connection_queues: bool = False,
) -> int:
    """Enqueue every due, unheld delivery; returns how many rows were enqueued."""
    now = now or timezone.now()
    chunk_size = max(1, min(chunk_size, conf.MAX_CHUNK))
    send = send or enqueue_chunk
    held = held_connection_ids(now)
    stale = now - timedelta(seconds=conf.redispatch_seconds())
    with transaction.atomic():
        rows = (
            Delivery.objects.filter(state__in=DUE_STATES, next_attempt_at__lte=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
            .exclude(connection_id__in=held)
            .order_by("next_attempt_at", "id")
        )
        if db_connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        picked = list(rows.values_list("pk", "connection__name")[:limit])
        if not picked:
            return 0
        Delivery.objects.filter(pk__in=[pk for pk, _ in picked]).update(enqueued_at=now)
        chunks = _chunks(picked, chunk_size, per_connection_queues)
        transaction.on_commit(lambda: _send_all(chunks, send))
    return len(picked)


def _send_all(chunks: list[tuple[list[int], str]], send: Sender) -> None:
    for ids, queue in chunks:
        try:
            send(ids, queue)
        except Exception:  # broker down: the rows go back to the dispatcher, not lost
            logger.warning("enqueue of %d deliveries failed; released for the next pass", len(ids), exc_info=True)
            ledger.release_to_dispatcher(ids)


def _chunks(picked: Sequence[tuple[int, str]], size: int, per_connection: bool) -> list[tuple[list[int], str]]:
    """Group by connection (one chunk never mixes queues), keep oldest-first order."""
    by_queue: dict[str, list[int]] = {}
    for pk, name in picked:
        by_queue.setdefault(queue_for(name, per_connection), []).append(pk)
    return [(ids[i : i + size], queue) for queue, ids in by_queue.items() for i in range(0, len(ids), size)]


def sweep_expired(*, now: datetime | None = None) -> int:
    """IN_FLIGHT rows whose lease ran out: count a worker loss and make them due again."""
    return ledger.expire_leases(now)
