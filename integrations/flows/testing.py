"""Test-run: every step computed on a sample record. Look-ups read for real through the
flow's connections (reads are safe, and a flow whose later steps need the looked-up record
cannot be tested without them); deliveries and approvals are simulated and labelled by the
engine's DryRunEffects; nothing is written."""

from time import perf_counter

from integrations.connections.models import Connection
from integrations.connectors.errors import ConnectorError
from integrations.connectors.registry import get_connector
from integrations.crosswalk.services import canonical_id, external_id
from integrations.flows import engine_api
from integrations.flows.outcome_json import jsonable, outcome_dict
from integrations.flows.services import DraftInvalid, draft_of


def version_for(flow, version: str):
    if version in ("draft", "", None):
        return draft_of(flow)
    found = flow.versions.filter(state="published", number=int(version) if str(version).isdigit() else -1).first()
    if found is None:
        raise LookupError(f"no published version '{version}'; use 'draft' or a version number")
    return found


def test_run(flow, user, record: dict, *, version: str = "draft") -> dict:
    target = version_for(flow, version)
    return {"version": target.number or "draft", **run_definition(target.definition, record)}


def run_definition(definition: dict, record: dict) -> dict:
    """Test-run a definition on one record (or a batch flow's sample page): the outcome as
    JSON, plus the deliveries it would make (`simulated: true`) and the total time."""
    try:
        plan = engine_api.compile_flow(definition)
    except engine_api.DefinitionInvalid as exc:
        raise DraftInvalid(engine_api.errors_as_dicts(exc.errors)) from exc
    page = _page_of(definition, record)
    sample = page[0] if page else record  # a batch flow's page: its first record is shown
    reads = ReadOnlyLookups()
    effects = engine_api.dry_run_effects(lookup=reads.lookup, crosswalk=canonical_id, linked_id=external_id)
    started = perf_counter()
    try:
        outcome = engine_api.run(plan, sample, effects, dry_run=True)
    finally:
        reads.close()
    extra = {"for_each": {"records": len(page), "shown": 0}} if page else {}
    deliveries = [{**jsonable(d.as_dict()), "simulated": True} for d in effects.deliveries]
    elapsed = round((perf_counter() - started) * 1000, 2)
    return {**outcome_dict(outcome), "deliveries": deliveries, "duration_ms": elapsed, **extra}


class ReadOnlyLookups:
    """The engine's lookup effect for a test-run: the same reads a live run makes (by id →
    read; by another field → find by that reference, then read), one connector per connection."""

    def __init__(self):
        self._connectors: dict = {}

    def lookup(self, step, request: dict):
        by = request.get("by") or {}
        if len(by) != 1:
            raise engine_api.EffectError("a lookup needs exactly one field in 'by'")
        connector = self._connector(request.get("connection", ""))
        (field, value), obj = next(iter(by.items())), request.get("object", "")
        try:
            if field == "id":
                return connector.read(obj, str(value))
            found = connector.find_by_external_ref(obj, field, str(value))
            return connector.read(obj, found.remote_id) if found and found.remote_id else None
        except ConnectorError as exc:
            if exc.status_code == 404:
                return None
            raise engine_api.EffectError(exc.message, transient=exc.transient, retry_after=exc.retry_after) from exc

    def close(self) -> None:
        for connector in self._connectors.values():
            connector.close()

    def _connector(self, name: str):
        if name not in self._connectors:
            connection = Connection.objects.filter(name=name).first()
            if connection is None:
                raise engine_api.EffectError(f"connection '{name}' does not exist")
            self._connectors[name] = get_connector(connection)
        return self._connectors[name]


def _page_of(definition, record) -> list:
    """The records of a batch flow's sample page; [] when the sample is one record."""
    if not engine_api.is_batch_flow(definition):
        return []
    try:
        return engine_api.records_of(definition, record) or []
    except ValueError:
        return []


test_run.__test__ = False  # not a pytest test despite the name
