"""The relay (docs/RELIABILITY.md §2) and the sweeper, run by beat every second or two.

`dispatch_due` selects due rows oldest-first (FOR UPDATE SKIP LOCKED on PostgreSQL, so two
dispatchers never pick the same rows), skips held connections (paused, in a window, circuit
open; a half-open circuit gets one probe row), marks `enqueued_at` and, after commit,
enqueues chunks of ids. No countdowns, no ETAs: a row that is not due yet simply is not
selected. A row enqueued long ago and still due (its message was lost with
Redis, or reserved by a killed worker) is selected again; a duplicate message is harmless
because the claim lets only one attempt through.
"""

import logging
import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from celery import current_app
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from integrations.connections.models import Connection
from integrations.deliveries import conf, ledger, queues
from integrations.deliveries.choices import DUE_STATES, DeliveryState
from integrations.deliveries.holds import held_connection_ids
from integrations.deliveries.models import Delivery

logger = logging.getLogger("integrations.deliveries")

# A rate-limited connection is fed what its limit sends in this many seconds, per pass.
BUDGET_SECONDS = 1.0
# A row its connection's throttle put back comes due again within this; a retry's backoff or a
# hold is longer, and does not keep newer rows waiting.
THROTTLED_HORIZON = timedelta(seconds=5)

Sender = Callable[[list[int], str], None]  # (ids, queue name) -> enqueue one message


def enqueue_chunk(ids: list[int], queue: str) -> None:
    """One message of delivery ids, sent by task name (tasks.py sits on top and imports this)."""
    current_app.send_task(queues.DELIVER_TASK, args=[ids], queue=queue, expires=conf.task_expires_seconds())


def dispatch_due(
    *,
    now: datetime | None = None,
    limit: int = 2000,
    chunk_size: int = conf.MAX_CHUNK,
    send: Sender | None = None,
) -> int:
    """Enqueue due, unheld deliveries oldest-first; returns how many rows were enqueued.

    Each connection gets a budget: what its rate limit can send before the next passes,
    and never more than `conf.outstanding_cap()` rows enqueued and unfinished. So a backlog drains
    in age order, a row does not wait in the broker longer than the redispatch interval
    (which would enqueue it twice), and workers are not flooded with messages the
    throttle would only defer. Each chunk goes to its connection's queue; rows sent before
    and never claimed make the dispatcher re-announce that queue to the workers."""
    now = now or timezone.now()
    chunk_size = max(1, min(chunk_size, conf.MAX_CHUNK))
    stale = now - timedelta(seconds=conf.redispatch_seconds())
    due = (
        Delivery.objects.filter(state__in=DUE_STATES, next_attempt_at__lte=now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
        .exclude(connection_id__in=held_connection_ids(now))
        .order_by("id")
    )
    with transaction.atomic():
        picked: list[tuple[int, int, datetime | None]] = []
        probing = half_open_ids(now)
        put_back = throttled_back(now)
        for connection_id, budget in budgets(due, stale).items():
            rows = due.filter(connection_id=connection_id)
            if connection_id in put_back:
                # Oldest-first: nothing newer overtakes a row the throttle put back a moment ago.
                rows = rows.filter(id__lt=put_back[connection_id])
            if connection_id in probing:
                # One probe at a time, the least-tried row, so probes through a long
                # outage are spread over the backlog and exhaust no single delivery.
                rows, budget = rows.order_by("attempts", "id"), min(budget, 1)
            picked += _pick(rows, min(budget, limit - len(picked)))
        if not picked:
            return 0
        Delivery.objects.filter(pk__in=[pk for pk, _, _ in picked]).update(enqueued_at=now)
        chunks = chunk_by_queue([(pk, cid) for pk, cid, _ in picked], chunk_size)
        unclaimed = {cid for _, cid, enqueued_at in picked if enqueued_at is not None}
        transaction.on_commit(lambda: send_all(chunks, enqueue_chunk if send is None else send))
        if unclaimed:
            transaction.on_commit(lambda: queues.announce(unclaimed))
    return len(picked)


def throttled_back(now: datetime) -> dict[int, int]:
    """{connection id: its oldest row that was never attempted and is put back for a few
    seconds}: a row a worker's throttle deferred (it clears `enqueued_at`). Without this, the
    next pass would hand newer rows to the freed budget while it waits."""
    rows = Delivery.objects.filter(
        state=DeliveryState.PENDING, next_attempt_at__gt=now, next_attempt_at__lte=now + THROTTLED_HORIZON
    )
    found = rows.values("connection_id").annotate(oldest=Min("id")).values_list("connection_id", "oldest")
    return dict(found.order_by())


def half_open_ids(now: datetime) -> set[int]:
    """Connections whose circuit cooldown has run out: each may send one probe."""
    return set(Connection.objects.filter(circuit_open_until__lte=now).values_list("pk", flat=True))


def _pick(rows: QuerySet[Delivery], limit: int) -> list[tuple[int, int, datetime | None]]:
    if limit <= 0:
        return []
    if db_connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    return list(rows.values_list("pk", "connection_id", "enqueued_at")[:limit])


def budgets(due: QuerySet[Delivery], stale: datetime) -> dict[int, int]:
    """{connection id: rows it may get this pass} for every connection with due rows."""
    connection_ids = set(due.order_by().values_list("connection_id", flat=True).distinct())
    if not connection_ids:
        return {}
    outstanding = dict(
        Delivery.objects.filter(connection_id__in=connection_ids)
        .filter(Q(state=DeliveryState.IN_FLIGHT) | Q(state__in=DUE_STATES, enqueued_at__gte=stale))
        .values_list("connection_id")
        .annotate(n=Count("id"))
        .values_list("connection_id", "n")
    )
    result = {}
    rows = Connection.objects.filter(pk__in=connection_ids).order_by("pk")
    for pk, requests, interval in rows.values_list("pk", "rate_limit_requests", "rate_limit_interval_seconds"):
        cap = conf.outstanding_cap()
        if requests:
            cap = min(cap, math.ceil(requests / max(1, interval) * BUDGET_SECONDS))
        result[pk] = max(0, cap - outstanding.get(pk, 0))
    return result


def send_all(chunks: list[tuple[list[int], str]], send: Sender) -> None:
    for ids, queue in chunks:
        try:
            send(ids, queue)
        except Exception:  # broker down: the rows go back to the dispatcher, not lost
            logger.warning("enqueue of %d deliveries failed; released for the next pass", len(ids), exc_info=True)
            ledger.release_to_dispatcher(ids)


def chunk_by_queue(picked: Sequence[tuple[int, int]], size: int) -> list[tuple[list[int], str]]:
    """(delivery id, connection id) pairs → chunks, one connection (one queue) per chunk,
    oldest-first within each."""
    by_queue: dict[str, list[int]] = {}
    for pk, connection_id in picked:
        by_queue.setdefault(queues.queue_name(connection_id), []).append(pk)
    return [(ids[i : i + size], queue) for queue, ids in by_queue.items() for i in range(0, len(ids), size)]


def sweep_expired(*, now: datetime | None = None) -> int:
    """IN_FLIGHT rows whose lease ran out: count a worker loss and make them due again."""
    return ledger.expire_leases(now)
