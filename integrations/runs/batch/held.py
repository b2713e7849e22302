"""Writes a batch flow asked for `after` another delivery (a deliver step's `after`).

A batch flow requests its deliveries without waiting for them, so a write that must follow
another one — the billed status written back to each Kantata time entry once its NetSuite
time bill is posted — cannot simply come next. Its requests are held (HeldDelivery, one row
per write, its own ledger key unique) in the same transaction that requests the delivery they
wait for, and requested from the ledger in bulk once that delivery has SUCCEEDED:

- `hold`: inside the run's fenced transaction (records.write_results), beside the bulk
  request of the other deliveries; a write whose delivery succeeded already (a group
  retried after its bill was posted) is released at once;
- `release_after`: when a delivery SUCCEEDED (runs/batch/runs.on_delivery_finished, in the
  transaction that also sees whether the run is done, so the run then waits for them too);
- `release_due`: periodic catch-up for a release whose hook was lost (a worker killed
  between the delivery's commit and its hook); the same pass prunes released rows older
  than their retention (retention.py).

Exactly once: a row is released under its row lock (skip locked, released_at set in the
same transaction), and the ledger inserts ON CONFLICT DO NOTHING on the write's own key. A
delivery that ends DEAD releases nothing; its writes stay held until a person retries it and
it succeeds."""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from integrations.deliveries import services as ledger
from integrations.deliveries.models import Delivery
from integrations.runs.batch.retention import prune_released_holds_when_due
from integrations.runs.models import HeldDelivery, Run

SUCCEEDED = "SUCCEEDED"
RELEASE_LIMIT = 5000  # held writes per catch-up pass


def hold(run: Run, connections: dict, requests: list) -> int:
    """Hold (step id, DeliveryRequest with `after`) pairs for `run`; a key held before is left
    alone. How many rows were written."""
    if not requests:
        return 0
    rows = [
        HeldDelivery(
            run=run,
            step_id=step_id or "",
            after_key=req.after,
            key=req.key,
            connection=connections[req.connection],
            object=req.object,
            action=req.action,
            payload=req.payload,
            external_id_field=req.external_id_field or "",
            external_id="" if req.external_id is None else str(req.external_id),
        )
        for step_id, req in requests
    ]
    for row in rows:
        ledger.validate_request(row.action, row.key, row.payload)
    HeldDelivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    after = sorted({row.after_key for row in rows})
    done = Delivery.objects.filter(idempotency_key__in=after, state=SUCCEEDED).values_list("idempotency_key", flat=True)
    for key in list(done):
        release_after(key)
    return len(rows)


def release_after(after_key: str) -> int:
    """Request from the ledger every write held for the delivery `after_key` (which has
    SUCCEEDED); how many were released. Joins the caller's transaction."""
    with transaction.atomic():
        rows = list(
            HeldDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(after_key=after_key, released_at__isnull=True)
            .select_related("connection", "run")
            .order_by("pk")
        )
        _release(rows)
    return len(rows)


def _release(rows: list) -> None:
    by_run: dict = defaultdict(list)
    for row in rows:
        by_run[row.run_id].append(row)
    for items in by_run.values():
        connections = {row.connection.name: row.connection for row in items}
        requests: list[tuple[str, ledger.WriteRequest]] = [(row.step_id, _request(row)) for row in items]
        ledger.request_deliveries(run=items[0].run, connections=connections, requests=requests)
    if rows:
        HeldDelivery.objects.filter(pk__in=[row.pk for row in rows]).update(released_at=timezone.now())


@dataclass(frozen=True)
class HeldWrite:
    """A held row as the ledger's WriteRequest (connection by name)."""

    connection: str
    object: str
    action: str
    key: str
    payload: dict[str, Any]
    external_id_field: str | None
    external_id: str | None


def _request(row: HeldDelivery) -> HeldWrite:
    return HeldWrite(
        connection=row.connection.name,
        object=row.object,
        action=row.action,
        key=row.key,
        payload=row.payload,
        external_id_field=row.external_id_field or None,
        external_id=row.external_id or None,
    )


def release_due() -> int:
    """Catch-up: held writes whose delivery has SUCCEEDED but were not released (the hook
    after its commit was lost). How many were released."""
    succeeded = Delivery.objects.filter(idempotency_key=OuterRef("after_key"), state=SUCCEEDED)
    with transaction.atomic():
        rows = list(
            HeldDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(Exists(succeeded), released_at__isnull=True)
            .select_related("connection", "run")
            .order_by("pk")[:RELEASE_LIMIT]
        )
        _release(rows)
    prune_released_holds_when_due()
    return len(rows)
