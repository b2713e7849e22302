"""The runtime's side of the engine's Effects protocol: lookups through connectors,
crosswalk reads, deliveries through the ledger, approval tasks and batches.

Each effect is idempotent per (run, step): when a suspended run resumes, the engine calls
the same effect again and it now finds the delivery done or the approval decided."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from integrations.approvals.services import open_task
from integrations.connections.models import Connection
from integrations.connectors.errors import ConnectorError
from integrations.connectors.registry import get_connector
from integrations.crosswalk.enforcement import hold_back_non_owner_changes
from integrations.crosswalk.services import canonical_id, external_id
from integrations.deliveries import services as ledger
from integrations.flows.engine_api import PENDING, ApprovalDecision, DeliveryResult, EffectError, step_id_of
from integrations.runs.batch.collect import add_to_batch

# Within one worker batch (worker.py `run_through`) each connection is read once, not once
# per delivery: {name: Connection or None}.
_batch_connections: ContextVar[dict | None] = ContextVar("batch_connections", default=None)
# And the deliveries that succeeded in it, by key: a run resumed in the same batch finds its
# delivery done without reading it again (a succeeded delivery never changes).
_batch_succeeded: ContextVar[dict | None] = ContextVar("batch_succeeded", default=None)
# And while the engine passes over the batch's runs, the deliveries they ask for are gathered
# here, to be filed in the ledger together (`file_gathered`).
_gathered: ContextVar[list | None] = ContextVar("gathered_requests", default=None)


@contextmanager
def worker_batch() -> Iterator[None]:
    tokens = _batch_connections.set({}), _batch_succeeded.set({})
    try:
        yield
    finally:
        _batch_connections.reset(tokens[0])
        _batch_succeeded.reset(tokens[1])


def remember_succeeded(delivery) -> None:
    """A delivery of this batch succeeded (resume.py): its run's deliver step will ask."""
    known = _batch_succeeded.get()
    if known is not None:
        known[delivery.idempotency_key] = delivery


@dataclass
class Gathered:
    effects: "RuntimeEffects"
    step_id: str
    connection: Connection
    request: object  # the engine's DeliveryRequest


@contextmanager
def gathering(into: list[Gathered]) -> Iterator[None]:
    """While the engine passes over a run of a worker's batch: the deliveries it asks for
    are gathered `into` the batch's list, the run told PENDING, until `file_gathered`."""
    token = _gathered.set(into)
    try:
        yield
    finally:
        _gathered.reset(token)


def file_gathered(gathered: list[Gathered]) -> list["RuntimeEffects"]:
    """File the gathered deliveries in the ledger at once (ledger.request_many). A run whose
    delivery was already in the ledger and ended (another run's, with the same key) was told
    PENDING wrongly: its effects are returned, for the caller to run it again, when the
    delivery step finds the row as it is (done, or dead)."""
    rows = ledger.request_many([(g.effects.run, g.step_id, g.connection, g.request) for g in gathered])
    again: list[RuntimeEffects] = []
    for g in gathered:
        row = rows[g.request.key]
        state = str(row.state).upper()
        if state == "SUCCEEDED":
            remember_succeeded(row)
        if state in ("SUCCEEDED", "DEAD"):
            if g.effects not in again:
                again.append(g.effects)
        else:
            g.effects.pending_delivery_ids.append(row.pk)
    return again


def _connection(name: str) -> Connection | None:
    cache = _batch_connections.get()
    if cache is not None and name in cache:
        return cache[name]
    connection = Connection.objects.filter(name=name).first()
    if cache is not None:
        cache[name] = connection
    return connection


def connection_kind(name: str) -> str:
    connection = _connection(name)
    return connection.kind if connection else ""


def connection_named(name: str) -> Connection:
    connection = _connection(name)
    if connection is None:
        raise EffectError(f"connection '{name}' does not exist")
    return connection


class RuntimeEffects:
    def __init__(self, run):
        self.run = run
        self.pending_delivery_ids: list[int] = []
        self.batch_ids: list[int] = []
        self._connectors: dict = {}  # a batch flow's chunk looks up through one connector per connection

    def lookup(self, step, request: dict):
        """{"connection", "object", "by": {field: value}}: by id → read; by another field →
        find by that external reference, then read. None when nothing matches."""
        name = request.get("connection", "")
        connector = self._connectors.get(name)
        if connector is None:
            connector = self._connectors[name] = get_connector(connection_named(name))
        by = request.get("by") or {}
        if len(by) != 1:
            raise EffectError("a lookup needs exactly one field in 'by'")
        (field, value), obj = next(iter(by.items())), request.get("object", "")
        try:
            if field == "id":
                return connector.read(obj, str(value))
            found = connector.find_by_external_ref(obj, field, str(value))
            return connector.read(obj, found.remote_id) if found and found.remote_id else None
        except ConnectorError as exc:
            if exc.status_code == 404:
                return None
            raise EffectError(exc.message, transient=exc.transient, retry_after=exc.retry_after) from exc

    def crosswalk(self, object: str, system: str, external_id: str):
        return canonical_id(object, system, external_id)

    def linked_id(self, object: str, canonical_id: str, system: str):
        return external_id(object, canonical_id, system)

    def deliver(self, step, request):
        # System-of-record ownership: fields the flow's source does not own are held back
        # (one conflict exception); None = nothing left to write.
        # A synchronous invocation has no run to hang a conflict on: it is not checked.
        if self.run is not None:
            request = hold_back_non_owner_changes(self.run, step_id_of(step), request, kind_of=connection_kind)
            if request is None:
                return DeliveryResult(status="succeeded", remote_id=None)
        known = _batch_succeeded.get() or {}
        if request.key in known:
            return DeliveryResult(status="succeeded", remote_id=known[request.key].remote_id or None)
        gathered = _gathered.get()
        if gathered is not None and self.run is not None:
            try:
                ledger.validate_request(request.action, request.key, request.payload)
            except ledger.DeliveryError as exc:
                raise EffectError(f"{exc.field}: {exc.message}") from exc
            gathered.append(Gathered(self, step_id_of(step), connection_named(request.connection), request))
            return PENDING
        try:
            delivery = ledger.request_delivery(
                run=self.run,
                step_id=step_id_of(step),
                connection=connection_named(request.connection),
                object=request.object,
                action=request.action,
                key=request.key,
                payload=request.payload,
                external_id_field=request.external_id_field,
                external_id=request.external_id,
            )
        except ledger.DeliveryError as exc:  # e.g. a key longer than the ledger allows
            raise EffectError(f"{exc.field}: {exc.message}") from exc
        state = str(delivery.state).upper()
        if state == "SUCCEEDED":
            return DeliveryResult(status="succeeded", remote_id=delivery.remote_id or None)
        if state == "DEAD":
            raise EffectError(f"delivery {delivery.key} is dead: {getattr(delivery, 'last_error', '') or 'failed'}")
        self.pending_delivery_ids.append(delivery.pk)
        return PENDING

    def approve(self, step, request):
        task = open_task(self.run, request)
        if task.status in ("approved", "rejected"):
            by = task.decided_by.get_username() if task.decided_by else "system"
            return ApprovalDecision(outcome=task.status, by=by, comment=task.comment)
        return PENDING

    def batch(self, step, group_key: str, record: dict):
        self.batch_ids.append(add_to_batch(self.run, step, group_key, record).pk)
        return PENDING
