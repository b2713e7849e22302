"""The one seam between the ledger and connectors: send a claimed delivery.

The ledger key goes to the target as its Idempotency-Key, and our business key in the
target's external-reference field. What happens after an attempt whose outcome we never
heard (a timeout, a dropped answer, a 504) depends on the write:

- *Idempotent*: an update by the target's own id, or an upsert by external id that the
  connector declares native and atomic (`Connector.idempotent_upsert`: Salesforce external-id
  PATCH, NetSuite `eid:` PUT, Dataverse alternate-key PATCH, HubSpot `idProperty` upsert).
  Repeating it is safe at any time, so a `create` with an external id goes out as that
  upsert from the first attempt, and a retry simply sends it again.
- *Not idempotent*: the target may still commit the first request after we gave up. The
  attempt is *unclear* (`UnclearOutcome`): the next one waits at least the connection's
  settle time (`settle_seconds`, well above the target's own request timeout), then looks
  the record up by external reference before every later attempt. After
  `max_unclear_attempts` unclear attempts, a last look-up that finds nothing ends in
  `Uncertain` — a person decides — rather than a post that could make a second record.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from integrations.connections.models import Connection
from integrations.connectors.base import Connector, WriteResult
from integrations.connectors.errors import ConnectorError
from integrations.connectors.http import DEFAULT_TIMEOUT, Attempt, AttemptRecorder
from integrations.connectors.registry import get_connector
from integrations.deliveries.models import Delivery

DEFAULT_MIN_SETTLE_SECONDS = 30.0
DEFAULT_MAX_UNCLEAR_ATTEMPTS = 3
SETTLE_TIMEOUT_FACTOR = 3  # settle = this times the client timeout, at least the minimum


@dataclass(frozen=True)
class Sent:
    result: WriteResult
    found: bool  # resolved by looking the record up, no write made


class UnclearOutcome(ConnectorError):
    """A non-idempotent write may have reached the target and may still be committed."""

    @classmethod
    def of(cls, exc: ConnectorError) -> "UnclearOutcome":
        return cls(
            exc.message,
            kind=exc.kind,
            status_code=exc.status_code,
            retry_after=exc.retry_after,
            ambiguous=True,
            vendor_code=exc.vendor_code,
        )


class Uncertain(ConnectorError):
    """Unclear attempts ran out and the record is not found: not posted again."""

    def __init__(self, delivery: Delivery) -> None:
        ref = f"{delivery.external_id_field}={delivery.external_id}" if delivery.external_id else "no external id"
        super().__init__(
            f"{delivery.unclear_attempts} attempts ended without an answer and the record was not found "
            f"({ref}); it may still appear in the target. Not posted again: check the target, then retry or resolve.",
            kind="permanent",
        )


class Recorder:
    """The connector's `on_attempt` hook, pointed at the attempt in progress, so one
    connector (and its connection pool and TLS context) serves a whole chunk."""

    def __init__(self) -> None:
        self.target: AttemptRecorder | None = None

    def __call__(self, call: Attempt) -> None:
        if self.target is not None:
            self.target(call)


def open_connector(connection: Connection) -> tuple[Connector, Recorder]:
    """(connector, recorder) for one connection; close the connector when the chunk is done."""
    recorder = Recorder()
    return get_connector(connection, on_attempt=recorder), recorder


def send(delivery: Delivery, connector: Connector) -> Sent:
    idempotent = is_idempotent(delivery, connector)
    if delivery.needs_lookup and not idempotent:
        found = _look_up(delivery, connector)
        if found is not None:
            return Sent(found, True)
        if delivery.unclear_attempts >= max_unclear_attempts(delivery.connection):
            raise Uncertain(delivery)
    try:
        return Sent(_write(connector, delivery, idempotent), False)
    except ConnectorError as exc:
        if not idempotent and may_land_later(exc):
            raise UnclearOutcome.of(exc) from exc
        raise


def is_idempotent(delivery: Delivery, connector: Connector) -> bool:
    """Can this delivery's write be repeated at any time without making a second record?"""
    if delivery.action == "update":
        return True
    has_ref = bool(delivery.external_id_field and delivery.external_id)
    return has_ref and connector.idempotent_upsert(delivery.object, delivery.external_id_field)


def may_land_later(exc: ConnectorError) -> bool:
    """No answer (timeout, dropped connection) or a gateway that gave up waiting (504):
    the target may still be working on the request."""
    return exc.ambiguous or exc.status_code == 504


def settle_seconds(connection: Connection) -> float:
    """How long after an unclear attempt the target has surely finished with it:
    `config.settle_seconds`, else 3 times the client timeout, at least the minimum in settings."""
    config = _config(connection)
    explicit = _number(config.get("settle_seconds"))
    if explicit is not None:
        return explicit
    timeout = _number(config.get("timeout_seconds")) or DEFAULT_TIMEOUT.read or 30.0
    minimum = float(getattr(settings, "SWITCHBOARD_SETTLE_MIN_SECONDS", DEFAULT_MIN_SETTLE_SECONDS))
    return max(minimum, SETTLE_TIMEOUT_FACTOR * timeout)


def max_unclear_attempts(connection: Connection) -> int:
    """`config.max_unclear_attempts`, else SWITCHBOARD_MAX_UNCLEAR_ATTEMPTS (default 3); at least 1."""
    value = _number(_config(connection).get("max_unclear_attempts"))
    if value is None:
        value = float(getattr(settings, "SWITCHBOARD_MAX_UNCLEAR_ATTEMPTS", DEFAULT_MAX_UNCLEAR_ATTEMPTS))
    return max(1, int(value))


def _config(connection: Connection) -> dict[str, Any]:
    return connection.config if isinstance(connection.config, dict) else {}


def _number(value: Any) -> float | None:
    # `config` is free-form JSON: a bad or negative value means "use the default".
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _look_up(delivery: Delivery, connector: Connector) -> WriteResult | None:
    if not (delivery.external_id_field and delivery.external_id):
        return None
    found = connector.find_by_external_ref(delivery.object, delivery.external_id_field, delivery.external_id)
    return found if found is not None and found.remote_id else None


def _write(connector: Connector, delivery: Delivery, idempotent: bool) -> WriteResult:
    payload = dict(delivery.payload or {})
    if delivery.action == "upsert" or (delivery.action == "create" and idempotent):
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
