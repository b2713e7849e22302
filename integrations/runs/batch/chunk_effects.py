"""Effects for the records of a batch flow (definition `for_each`), run in memory by a chunk.

Nothing here writes: deliveries are collected and requested in bulk when the chunk commits
(one INSERT … ON CONFLICT DO NOTHING) — those `after` another delivery are held until it has
succeeded (held.py) — and a `batch` step answers PENDING so the record stops there and the
chunk files it under its group key. Lookups and crosswalk reads go through the same code as
one-record runs; crosswalk reads are one snapshot per chunk (chunk_links.py), and a lookup
is read once per chunk: records asking for the same thing (the entries of one Kantata
workspace) share the answer instead of one HTTP request each."""

from integrations.deliveries import services as ledger
from integrations.flows.engine_api import PENDING, DeliveryResult, EffectError, step_id_of
from integrations.runs.batch.chunk_links import ChunkLinks
from integrations.runs.effects import RuntimeEffects, connection_named

# What a deliver step of a batch flow reports: the write is in the ledger's hands, and the
# record goes on without waiting (so `steps.<id>.remote_id` is null in a batch flow).
REQUESTED = DeliveryResult(status="succeeded", remote_id=None, response="requested from the ledger")


class ChunkEffects:
    def __init__(self):
        self._reads = RuntimeEffects(None)
        self.connections: dict = {}
        self.requests: list = []  # (step id, DeliveryRequest), in record order
        self.held: list = []  # (step id, DeliveryRequest) to request once their `after` delivery succeeded
        self._looked_up: dict = {}  # (connection, object, by) -> what the read found, for this chunk
        self.retry_after: float | None = None  # the target's Retry-After of the current record's lookup
        self._links = ChunkLinks(self._reads.crosswalk)  # one snapshot of the crosswalk per chunk

    def lookup(self, step, request: dict):
        asked = (request.get("connection"), request.get("object"), repr(sorted((request.get("by") or {}).items())))
        if asked in self._looked_up:
            return self._looked_up[asked]
        try:
            found = self._looked_up[asked] = self._reads.lookup(step, request)
            return found
        except EffectError as exc:
            # The engine's error carries no Retry-After; keep it so the record's retry honours it.
            wait = getattr(exc.__cause__, "retry_after", None)
            if wait:
                self.retry_after = max(self.retry_after or 0.0, float(wait))
            raise

    def crosswalk(self, object: str, system: str, external_id: str):
        return self._links.canonical_id(object, system, external_id)

    def linked_id(self, object: str, canonical_id: str, system: str):
        return self._links.linked_id(object, canonical_id, system)

    def deliver(self, step, request):
        try:
            ledger.validate_request(request.action, request.key, request.payload)
        except ledger.DeliveryError as exc:  # e.g. a key longer than the ledger allows: this record fails
            raise EffectError(f"{exc.field}: {exc.message}") from exc
        if request.connection not in self.connections:
            self.connections[request.connection] = connection_named(request.connection)
        (self.held if getattr(request, "after", None) else self.requests).append((step_id_of(step), request))
        return REQUESTED

    def approve(self, step, request):
        raise EffectError("approve steps cannot run in a for_each flow")

    def batch(self, step, group_key: str, record: dict):
        return PENDING
