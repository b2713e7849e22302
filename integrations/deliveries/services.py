"""The ledger's public writes: request a delivery (the runner), retry a dead one (people).

request_delivery(run=, step_id=, connection=, object=, action=, key=, payload=, ...)
    → Delivery, idempotent per key: the existing row is returned whatever its state.
retry_delivery(delivery, *, payload=None, new_key_suffix=None, actor=None)
    → DEAD → PENDING with attempts reset; an edited payload is sent under `key:rN`.
    Concurrent calls: exactly one wins, the others raise DeliveryConflict (API: 409).
"""

import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any, Protocol

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from integrations.audit.services import record
from integrations.connections.models import Connection
from integrations.deliveries import conf, dispatcher
from integrations.deliveries.choices import DeliveryState
from integrations.deliveries.models import Delivery

ACTIONS = ("create", "update", "upsert")
SUFFIX_RE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")


class DeliveryError(ValueError):
    """Bad input to a ledger service; `field` names what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class DeliveryConflict(Exception):
    """The delivery is not in a state that allows this (e.g. retry of a non-dead row)."""


# A run is a `runs.Run` row. Runs sit above deliveries (the model names it "runs.Run"),
# so the ledger does not import the class, not even for types.
RunRow = Any


class WriteRequest(Protocol):
    """One write a flow step asks for, as `request_deliveries` reads it (the engine's
    DeliveryRequest has these fields; the ledger does not import the engine)."""

    @property
    def connection(self) -> str: ...  # the connection's name
    @property
    def object(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def external_id_field(self) -> str | None: ...
    @property
    def external_id(self) -> str | None: ...


def request_delivery(
    *,
    run: RunRow | None,
    step_id: str,
    connection: Connection,
    object: str,
    action: str,
    key: str,
    payload: dict[str, Any],
    external_id_field: str | None = None,
    external_id: str | None = None,
    enqueue: bool = True,
) -> Delivery:
    validate_request(action, key, payload)
    now = timezone.now()
    existing = Delivery.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    fields = {
        "run": run,
        "step_id": step_id or "",
        "connection": connection,
        "object": object,
        "action": action,
        "payload": payload,
        "original_payload": payload,
        "external_id_field": external_id_field or "",
        "external_id": "" if external_id is None else str(external_id),
        "next_attempt_at": now,
        "enqueued_at": now if enqueue else None,
    }
    try:
        # Outside a transaction the INSERT is one statement of its own (no BEGIN/COMMIT around
        # it, as get_or_create would add); inside one, a savepoint keeps the caller's alive.
        with transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext():
            delivery = Delivery.objects.create(idempotency_key=key, **fields)
    except IntegrityError:
        found = Delivery.objects.filter(idempotency_key=key).first()
        if found is None:
            raise
        return found  # the same key requested at the same moment: that row is the one
    if enqueue:
        _enqueue_on_commit(delivery.pk, delivery.connection_id)
    return delivery


def new_row(
    run: RunRow | None,
    step_id: str,
    connection: Connection,
    req: WriteRequest,
    *,
    now: datetime,
    enqueued_at: datetime | None,
) -> Delivery:
    """An unsaved ledger row for a request, due now (the bulk forms insert many at once)."""
    return Delivery(
        idempotency_key=req.key,
        run=run,
        step_id=step_id or "",
        connection=connection,
        object=req.object,
        action=req.action,
        payload=req.payload,
        original_payload=req.payload,
        external_id_field=req.external_id_field or "",
        external_id="" if req.external_id is None else str(req.external_id),
        next_attempt_at=now,
        enqueued_at=enqueued_at,
    )


# What a run needs of a ledger row to go on (request_many reads only these).
NEEDED_TO_GO_ON = (
    "id",
    "idempotency_key",
    "state",
    "remote_id",
    "last_error",
    "connection_id",
    "run_id",
    "enqueued_at",
)


def request_many(requests: list[tuple[RunRow | None, str, Connection, WriteRequest]]) -> dict[str, Delivery]:
    """`request_delivery` for the deliveries a worker's batch of runs asked for, as (run,
    step id, connection, request): one INSERT … ON CONFLICT DO NOTHING for all of them and
    one read of their rows by key, instead of a look and an INSERT each. A key already in
    the ledger keeps its row, as one at a time (the first request wins). Returns {key: row}
    with the fields a run needs to go on (state, remote id, error); rows made here are
    enqueued as `request_delivery` enqueues them (held by a worker that sends them itself)."""
    now = timezone.now()
    fresh: dict[str, Delivery] = {}
    for run, step_id, connection, req in requests:
        validate_request(req.action, req.key, req.payload)
        fresh.setdefault(req.key, new_row(run, step_id, connection, req, now=now, enqueued_at=now))
    if not fresh:
        return {}
    Delivery.objects.bulk_create(list(fresh.values()), batch_size=500, ignore_conflicts=True)
    keys = list(fresh)
    rows: dict[str, Delivery] = {}
    for i in range(0, len(keys), 500):  # SQLite caps the variables of one statement
        found = Delivery.objects.filter(idempotency_key__in=keys[i : i + 500]).only(*NEEDED_TO_GO_ON)
        rows.update((row.idempotency_key, row) for row in found)
    for row in sorted(rows.values(), key=lambda row: row.pk):
        # Made by this call: what `request_delivery` would have enqueued (another request's
        # row with the same stamp would only get a second, harmless message).
        if row.state == DeliveryState.PENDING and row.enqueued_at == now:
            _enqueue_on_commit(row.pk, row.connection_id)
    return rows


def request_deliveries(
    *, run: RunRow, connections: dict[str, Connection], requests: list[tuple[str, WriteRequest]]
) -> list[int]:
    """Bulk form for batch flows: one INSERT … ON CONFLICT DO NOTHING for many (step id,
    DeliveryRequest) pairs, so a re-executed chunk never makes a second delivery for a key.

    `connections` maps connection names to Connection rows. Returns the ids of the rows
    this call created, enqueued after commit; a key that already existed is left alone
    (its own dispatcher/sweeper owns it)."""
    now = timezone.now()
    rows = []
    for step_id, req in requests:
        validate_request(req.action, req.key, req.payload)
        rows.append(new_row(run, step_id, connections[req.connection], req, now=now, enqueued_at=None))
    if not rows:
        return []
    Delivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    # Rows this call inserted are the ones still unmarked: mark and ring for exactly those.
    keys = [row.idempotency_key for row in rows]
    fresh: list[tuple[int, int]] = []
    for i in range(0, len(keys), 500):  # SQLite caps the variables of one statement
        found = Delivery.objects.filter(idempotency_key__in=keys[i : i + 500], enqueued_at__isnull=True, run=run)
        fresh += found.values_list("pk", "connection_id")
    ids = [pk for pk, _connection in fresh]
    for i in range(0, len(ids), 500):
        Delivery.objects.filter(pk__in=ids[i : i + 500]).update(enqueued_at=now)
    for pk, connection_id in fresh:
        _enqueue_on_commit(pk, connection_id)
    return ids


def validate_request(action: str, key: str, payload: object) -> None:
    if action not in ACTIONS:
        raise DeliveryError("action", f"must be one of {', '.join(ACTIONS)}, not {action!r}")
    if not key or len(key) > 255:
        raise DeliveryError("key", "must be 1 to 255 characters")
    if not isinstance(payload, dict):
        raise DeliveryError("payload", "must be a JSON object")


# Deliveries created in one transaction go out as one message per chunk, after commit.
# Each commit hook flushes the whole buffer; an id from a rolled-back transaction finds
# no row in the worker and is skipped, harmlessly.
_buffer = threading.local()


def _enqueue_on_commit(delivery_id: int, connection_id: int) -> None:
    held = getattr(_buffer, "held", None)
    if held is not None:  # the caller sends these itself (messages_held)
        held.append((delivery_id, connection_id))
        return
    pending = getattr(_buffer, "ids", None)
    if pending is None:
        pending = _buffer.ids = []
    pending.append((delivery_id, connection_id))
    transaction.on_commit(_flush)


def _flush() -> None:
    picked, _buffer.ids = getattr(_buffer, "ids", None) or [], []
    dispatcher.send_all(dispatcher.chunk_by_queue(picked, conf.MAX_CHUNK), dispatcher.enqueue_chunk)


@contextmanager
def messages_held() -> Iterator[list[tuple[int, int]]]:
    """For a worker that sends the deliveries its runs request itself (runs/worker.py): their
    queue messages are held back in the list this yields, as (delivery id, connection id),
    for `ring` to send for whatever the worker did not attempt. The rows are marked enqueued
    as always, so a worker that dies holding them leaves them to the dispatcher's redispatch,
    like a lost message (docs/RELIABILITY.md §2)."""
    outer, _buffer.held = getattr(_buffer, "held", None), []
    try:
        yield _buffer.held
    finally:
        _buffer.held = outer


def unheld(delivery_ids: Iterable[int]) -> list[int]:
    """Those of these deliveries whose messages are not held here: the others are on no queue
    yet, so nobody else can have sent them."""
    held = {pk for pk, _connection in getattr(_buffer, "held", None) or []}
    return [pk for pk in delivery_ids if pk not in held]


def ring(picked: Iterable[tuple[int, int]]) -> None:
    """Send the queue messages for these (delivery id, connection id) pairs now."""
    dispatcher.send_all(dispatcher.chunk_by_queue(list(picked), conf.MAX_CHUNK), dispatcher.enqueue_chunk)


def retry_delivery(
    delivery: Delivery,
    *,
    new_key_suffix: str | None = None,
    payload: dict[str, Any] | None = None,
    actor: AbstractBaseUser | str | None = None,
) -> Delivery:
    """A dead delivery gets a new round of attempts under the same business key (docs/RELIABILITY.md §8)."""
    if new_key_suffix is not None and not SUFFIX_RE.match(new_key_suffix):
        raise DeliveryError("new_key_suffix", "1 to 20 letters, digits, '-' or '_'")
    if payload is not None and not isinstance(payload, dict):
        raise DeliveryError("payload", "must be a JSON object")
    with transaction.atomic():
        current = Delivery.objects.get(pk=delivery.pk)
        fields = _retry_fields(current, payload, new_key_suffix)
        won = Delivery.objects.filter(pk=current.pk, state=DeliveryState.DEAD, revision=current.revision).update(
            **fields
        )
        if not won:
            raise DeliveryConflict(f"delivery {current.idempotency_key} is {current.state}, not DEAD; not retried")
        if "payload" in fields:
            record(actor, "delivery.edited", current, before=current.payload, after=fields["payload"])
        sent_as = f"{current.idempotency_key}:{fields['key_suffix']}" if fields.get("key_suffix") else ""
        record(
            actor,
            "delivery.retried",
            current,
            changes={"state": [DeliveryState.DEAD, DeliveryState.PENDING]},
            message=f"sent as {sent_as}" if sent_as else "",
        )
    _enqueue_on_commit(current.pk, current.connection_id)
    current.refresh_from_db()
    return current


def _retry_fields(current: Delivery, payload: dict[str, Any] | None, new_key_suffix: str | None) -> dict[str, Any]:
    now = timezone.now()
    fields: dict[str, Any] = {
        "state": DeliveryState.PENDING,
        "attempts": 0,
        "worker_losses": 0,
        "unclear_attempts": 0,  # a person checked the target: an `uncertain` row may post again
        "lease_until": None,
        "next_attempt_at": now,
        "enqueued_at": now,
        "classification": "",
        "last_error": "",
        "updated_at": now,
        "revision": F("revision") + 1,
    }
    if payload is not None and payload != current.payload:
        fields["payload"] = payload
        fields["key_suffix"] = new_key_suffix or f"r{current.revision + 1}"
    elif new_key_suffix:
        fields["key_suffix"] = new_key_suffix
    return fields
