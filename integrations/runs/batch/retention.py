"""How long the batch machinery keeps its bookkeeping rows.

Runs, deliveries and exceptions are kept (they are the history people search); what is
pruned is bookkeeping whose facts live on elsewhere, as throttle events (deliveries/retention.py,
a day) and redelivery notes (health, a day) are.

- HeldDelivery: a released row has become a delivery in the ledger (same key, same payload,
  kept as every delivery is), so it is kept RELEASED_KEPT — long enough to see when a write
  was released — and then deleted. A row not released yet is a write still owed and is never
  deleted (it also keeps its connection from being deleted: on_delete PROTECT). Deleting a
  released row cannot send its write twice: holding it again (a retried group) requests it
  again from the ledger, which inserts ON CONFLICT DO NOTHING on its key.
- GroupedRecord is not pruned: its rows are the exactly-once guard of a batch flow (a record
  is filed once per flow, step and item key, for ever; a time entry polled again after its
  row were gone would be billed again), so they are kept as deliveries are."""

import time
from datetime import datetime, timedelta

from django.utils import timezone

from integrations.runs.models import HeldDelivery

RELEASED_KEPT = timedelta(days=7)
PRUNE_BATCH = 5000  # rows per DELETE: a short statement, no long lock on a busy table
PRUNE_BATCHES = 20  # DELETEs per prune at most: a backlog goes over a few prunes, each short


class Every:
    """Says yes at most once every `seconds` in this process (monotonic clock)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.last = float("-inf")

    def due(self) -> bool:
        if time.monotonic() - self.last < self.seconds:
            return False
        self.last = time.monotonic()
        return True


PRUNE_CLOCK = Every(600.0)  # the caller runs every 30 s; a prune every 10 minutes is plenty


def prune_released_holds(*, now: datetime | None = None, limit: int = PRUNE_BATCH) -> int:
    """Delete up to `limit` held writes released more than RELEASED_KEPT ago, oldest first;
    how many. Unreleased rows stay whatever their age."""
    cutoff = (now or timezone.now()) - RELEASED_KEPT
    old = HeldDelivery.objects.filter(released_at__lt=cutoff).order_by("released_at")  # its partial index
    ids = list(old.values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    return int(HeldDelivery.objects.filter(pk__in=ids).delete()[0])


def prune_released_holds_when_due() -> int:
    """From the periodic catch-up (held.release_due, every 30 s): prune at most every ten
    minutes per process (PRUNE_CLOCK): a few index reads twice a minute would be wasted."""
    if not PRUNE_CLOCK.due():
        return 0
    removed = 0
    for _ in range(PRUNE_BATCHES):
        deleted = prune_released_holds()
        removed += deleted
        if deleted < PRUNE_BATCH:
            break
    return removed
