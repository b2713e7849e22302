"""The one seam between the ledger and connectors: send a claimed delivery.

The ledger key goes to the target as its Idempotency-Key, and our business key in the
target's external-reference field. After an ambiguous attempt the record is first looked
up by that external reference (RELIABILITY §4), so a second POST never happens for a
posting that already landed."""

from dataclasses import dataclass

from integrations.connectors.base import WriteResult
from integrations.connectors.errors import ConnectorError
from integrations.connectors.registry import get_connector
from integrations.deliveries.models import Delivery


@dataclass(frozen=True)
class Sent:
    result: WriteResult
    found: bool  # resolved by looking the record up, no write made


class Recorder:
    """The connector's `on_attempt` hook, pointed at the attempt in progress, so one
    connector (and its connection pool and TLS context) serves a whole chunk."""

    def __init__(self) -> None:
        self.target = None

    def __call__(self, call) -> None:
        if self.target is not None:
            self.target(call)


def open_connector(connection) -> tuple:
    """(connector, recorder) for one connection; close the connector when the chunk is done."""
    recorder = Recorder()
    return get_connector(connection, on_attempt=recorder), recorder


def send(delivery: Delivery, connector) -> Sent:
    lookup_first = delivery.needs_lookup and delivery.action != "update"
    if lookup_first and delivery.external_id_field and delivery.external_id:
        found = connector.find_by_external_ref(delivery.object, delivery.external_id_field, delivery.external_id)
        if found is not None and found.remote_id:
            return Sent(found, True)
    return Sent(_write(connector, delivery), False)


def _write(connector, delivery: Delivery) -> WriteResult:
    payload = dict(delivery.payload or {})
    if delivery.action == "upsert":
        if not (delivery.external_id_field and delivery.external_id):
            raise ConnectorError("An upsert needs external_id_field and external_id.", kind="permanent")
        return connector.upsert(
            delivery.object,
            delivery.external_id_field,
            delivery.external_id,
            payload,
            idempotency_key=delivery.send_key,
        )
    if delivery.action == "update":
        # For an update the external id is the target's own record id.
        if not delivery.external_id:
            raise ConnectorError("An update needs the target record id in external_id.", kind="permanent")
        return connector.update(delivery.object, delivery.external_id, payload)
    if delivery.external_id_field and delivery.external_id:
        payload[delivery.external_id_field] = delivery.external_id
    return connector.create(delivery.object, payload, idempotency_key=delivery.send_key)
