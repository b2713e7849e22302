"""State transitions of the ledger, each one conditional UPDATE (docs/RELIABILITY.md §3, §5).

A worker owns a delivery between `claim` (which bumps the fencing token) and the fenced
write that ends its attempt; a write carrying an older fence matches no row and is a no-op.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.db import transaction
from django.db.models import Q, Value
from django.utils import timezone

from integrations import durability, leases
from integrations.audit.services import record
from integrations.deliveries import conf, transport
from integrations.deliveries.choices import DUE_STATES, Classification, DeliveryState
from integrations.deliveries.hooks import deliveries_succeeded, delivery_finished
from integrations.deliveries.models import Delivery
from integrations.health.services import note_redelivery

logger = logging.getLogger("integrations.deliveries")


@dataclass(frozen=True)
class Claim:
    delivery: Delivery
    fence: int


def due_filter(now: datetime) -> Q:
    """Rows a worker may take: due for an attempt, or owned by a worker whose lease ran out."""
    return Q(state__in=DUE_STATES, next_attempt_at__lte=now) | Q(state=DeliveryState.IN_FLIGHT, lease_until__lt=now)


def claim(delivery_id: int, *, now: datetime | None = None, delivery: Delivery | None = None) -> Claim | None:
    """Take the delivery for one attempt, or None when it is not due or someone else owns it.

    The one claim of integrations/leases.py (docs/RELIABILITY.md §3), a single round trip.
    A delivery may also be taken over when its lease ran out: that counts a worker loss (the
    owner died mid-attempt) and asks for a lookup before any POST; at the cap the row goes
    DEAD `worker_lost` and the body never runs (docs/RELIABILITY.md §11.3).
    `delivery`, when given, is the caller's copy of the row: it is updated in place."""
    now = now or timezone.now()
    if delivery is None:
        delivery = Delivery.objects.select_related("connection").filter(pk=delivery_id).first()
        if delivery is None:
            return None
    # Durable before the request leaves: a crash of PostgreSQL must never forget that it may
    # have been sent (integrations/durability.py).
    with durability.durable():
        claimed = _claim(delivery_id, delivery, now)
    if claimed is None:
        return None
    delivery.fence, delivery.attempts = claimed.fence, claimed.attempts
    # RETURNING worker_losses (an integer column), needs_lookup
    delivery.worker_losses, delivery.needs_lookup = cast(int, claimed.values[0]), bool(claimed.values[1])
    delivery.state = DeliveryState.IN_FLIGHT
    if delivery.worker_losses >= conf.MAX_WORKER_LOSSES:
        kill_lost(delivery, delivery.fence, now=now)
        return None
    return Claim(delivery, delivery.fence)


def claim_many(rows: list[Delivery], *, now: datetime | None = None) -> dict[int, Claim]:
    """`claim` for the due rows a worker's round sends itself (runs/worker.py), one durable
    UPDATE per connection instead of a transaction each: {pk: Claim} for those still due.
    Rows in flight are not taken over here (`claim` does that, one by one); each claimed
    row, updated in place, keeps its own lease and fence."""
    now = now or timezone.now()
    by_connection: dict[int, list[Delivery]] = {}
    for row in rows:
        by_connection.setdefault(row.connection_id, []).append(row)
    claims: dict[int, Claim] = {}
    for group in by_connection.values():
        with durability.durable():  # before any request leaves, as in `claim`
            claimed = leases.claim_many(
                Delivery,
                [row.pk for row in group],
                now=now,
                queued=DUE_STATES,
                running=DeliveryState.IN_FLIGHT,
                state_field="state",
                also={"updated_at": "%(now)s"},
                returning=("worker_losses", "needs_lookup"),
                on_release={"needs_lookup": "%(true)s", "updated_at": "%(now)s"},
                interrupted_delay=transport.settle_seconds(group[0].connection),
            )
        for row in group:
            got = claimed.get(row.pk)
            if got is None:
                continue
            row.fence, row.attempts, row.state = got.fence, got.attempts, DeliveryState.IN_FLIGHT
            row.worker_losses, row.needs_lookup = cast(int, got.values[0]), bool(got.values[1])
            claims[row.pk] = Claim(row, got.fence)
    return claims


def give_back_unsent(pks: list[int], *, claimed_at: datetime) -> list[int]:
    """Rows `claim_many` took at `claimed_at` that were not sent after all: due again now,
    lease cleared, attempt refunded, fence bumped (nothing was sent: no lookup needed).
    Returns those given back."""
    lease = leases.lease_until(claimed_at)
    back = []
    for pk in pks:
        hold = leases.Hold(Delivery, pk, lease, "state", DeliveryState.IN_FLIGHT, DUE_STATES[0], {})
        if leases.release(hold):
            back.append(pk)
    return back


def _claim(delivery_id: int, delivery: Delivery, now: datetime) -> leases.Claimed | None:
    return leases.claim(
        Delivery,
        delivery_id,
        now=now,
        queued=DUE_STATES,
        running=DeliveryState.IN_FLIGHT,
        state_field="state",
        take_over_expired={"worker_losses": "worker_losses + 1", "needs_lookup": "%(true)s"},
        also={"updated_at": "%(now)s"},
        returning=("worker_losses", "needs_lookup"),
        # Given back mid-attempt (database error, shutdown): the request may have landed, so
        # look it up first; after an interruption, only once the target has settled it.
        on_release={"needs_lookup": "%(true)s", "updated_at": "%(now)s"},
        interrupted_delay=transport.settle_seconds(delivery.connection),
    )


def note_if_leased(delivery_id: int, *, now: datetime, hostname: str = "") -> bool:
    """A redelivered message found its row in flight under a live lease: note it for /healthz."""
    held = leases.held_for(Delivery, delivery_id, running=DeliveryState.IN_FLIGHT, now=now, state_field="state")
    if held is None:
        return False
    note_redelivery("delivery", delivery_id, held_seconds=held, hostname=hostname)
    return True


def kill_lost(delivery: Delivery, fence: int, *, now: datetime) -> bool:
    from integrations.deliveries.attempts import log_worker_lost

    message = f"worker lost {delivery.worker_losses} times while sending; not retried automatically"
    done = finish(
        delivery.pk,
        fence,
        state=DeliveryState.DEAD,
        classification=Classification.WORKER_LOST,
        last_error=message,
        needs_lookup=True,
    )
    if done:
        log_worker_lost(delivery, fence, now)
    return done


def finish(delivery_id: int, fence: int, *, row: Delivery | None = None, **fields: Any) -> bool:
    """End the attempt holding `fence`. False (and nothing written) when the fence is stale.
    `row`, the caller's copy of the delivery, gets the written fields and goes to the hook's
    listeners, which then need not read it again."""
    now = timezone.now()
    fields.setdefault("updated_at", now)
    if fields.get("state") == DeliveryState.SUCCEEDED:
        fields.setdefault("succeeded_at", now)
    if fields.get("state") in DUE_STATES:
        fields.setdefault("enqueued_at", None)
    done = Delivery.objects.filter(pk=delivery_id, fence=fence, state=DeliveryState.IN_FLIGHT).update(
        lease_until=None, **fields
    )
    if not done:
        logger.warning("delivery %s: stale fence %s, result discarded", delivery_id, fence)
        return False
    if fields.get("state") == DeliveryState.DEAD:
        record(
            "system:ledger",
            "delivery.dead_lettered",
            object_type="deliveries.delivery",
            object_id=str(delivery_id),
            changes={"classification": [None, fields.get("classification")]},
            message=(fields.get("last_error") or "")[:500],
        )
    if row is not None:
        for name, value in {"lease_until": None, **fields}.items():
            setattr(row, name, value)
    if fields.get("state") in (DeliveryState.SUCCEEDED, DeliveryState.DEAD):
        notify_finished(delivery_id, row)
    return True


def finish_succeeded_many(landed: list[tuple[Delivery, int, dict[str, Any]]]) -> set[int]:
    """`finish` with state SUCCEEDED for many attempts of one round, in one fenced UPDATE per
    set of fields: (row, fence, {field: value}) each. Returns the pks written (a stale fence
    writes nothing, as in `finish`); the rows get the written fields, and once the caller's
    transaction commits they are announced together (hooks.deliveries_succeeded)."""
    now = timezone.now()
    writes = []
    for row, fence, fields in landed:
        fields = {
            "state": DeliveryState.SUCCEEDED,
            "succeeded_at": now,
            "updated_at": now,
            "lease_until": None,
            **fields,
        }
        writes.append((row, fence, fields))
    done = leases.write_fenced_many(
        Delivery, [(row.pk, fence, f) for row, fence, f in writes], running=DeliveryState.IN_FLIGHT, state_field="state"
    )
    finished = []
    for row, fence, fields in writes:
        if row.pk not in done:
            logger.warning("delivery %s: stale fence %s, result discarded", row.pk, fence)
            continue
        for name, value in fields.items():
            setattr(row, name, value)
        finished.append(row)
    if finished:
        transaction.on_commit(lambda: deliveries_succeeded.send(deliveries=finished))
    return done


def notify_finished(delivery_id: int, row: Delivery | None = None) -> None:
    """Announce the end of the delivery once this transaction commits (the runtime, when
    installed, has connected the run that waits for it; without it the ledger stands alone).
    `row`, when given, is the delivery as written: listeners use it instead of reading it."""
    transaction.on_commit(lambda: delivery_finished.send(delivery_id=delivery_id, delivery=row))


def defer(delivery_id: int, seconds: float, *, now: datetime | None = None) -> bool:
    """Put an unclaimed due row back for later (throttled, or held by a window/pause)."""
    now = now or timezone.now()
    return bool(
        Delivery.objects.filter(pk=delivery_id, state__in=DUE_STATES).update(
            next_attempt_at=now + timedelta(seconds=seconds), enqueued_at=None, updated_at=now
        )
    )


def release_to_dispatcher(delivery_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Forget that these due rows were enqueued, so the dispatcher picks them up again."""
    now = now or timezone.now()
    return Delivery.objects.filter(pk__in=list(delivery_ids), state__in=DUE_STATES).update(
        enqueued_at=None, updated_at=now
    )


def expire_leases(now: datetime | None = None) -> int:
    """Sweeper: IN_FLIGHT rows whose lease ran out count a worker loss and become due again,
    or DEAD `worker_lost` at the cap. Fenced per row, so a late finisher cannot collide."""
    now = now or timezone.now()
    expired = list(
        Delivery.objects.filter(state=DeliveryState.IN_FLIGHT, lease_until__lt=now).values_list(
            "pk", "fence", "worker_losses"
        )[:1000]
    )
    for pk, fence, losses in expired:
        if losses + 1 >= conf.MAX_WORKER_LOSSES:
            delivery = Delivery.objects.get(pk=pk)
            delivery.worker_losses = losses + 1
            with transaction.atomic():
                Delivery.objects.filter(pk=pk, fence=fence).update(worker_losses=losses + 1)
                kill_lost(delivery, fence, now=now)
            continue
        Delivery.objects.filter(pk=pk, fence=fence, state=DeliveryState.IN_FLIGHT).update(
            state=DeliveryState.PENDING,
            worker_losses=Value(losses + 1),
            needs_lookup=True,
            next_attempt_at=now,
            lease_until=None,
            enqueued_at=None,
            updated_at=now,
        )
    return len(expired)
