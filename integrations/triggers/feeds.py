"""Change feeds: event triggers on a connection whose vendor sends no webhooks.

A connector that offers `change_feed(since)` (Salesforce: SOQL on SystemModstamp with an
overlapping window) is read periodically for every active flow with an event trigger on
that connection. Each change is ingested as if it had come in by webhook — source = the
connection's name, the connector's event type and dedupe key — so the overlap and a
repeated poll store nothing twice. The first read of a flow starts at its publication (no
backlog of history), and the watermark moves in the transaction that stores the events."""

import logging

from django.db import transaction

from integrations.connections.models import Connection
from integrations.connectors.errors import ConnectorError
from integrations.connectors.registry import get_connector
from integrations.events.services import ingest_event
from integrations.flows.choices import FlowStatus
from integrations.flows.models import Flow, Watermark

log = logging.getLogger(__name__)
FEED_OBJECT = "change-feed"


def _feed_flows():
    for flow in Flow.objects.filter(status=FlowStatus.ACTIVE).order_by("pk"):
        version = flow.live_version
        trigger = (version.definition.get("trigger") or {}) if version else {}
        if trigger.get("type") == "event" and trigger.get("connection"):
            yield flow, version, trigger


def poll_feeds() -> int:
    """Read every change feed once; returns how many new events were stored."""
    stored = 0
    for flow, version, trigger in _feed_flows():
        name = trigger["connection"]
        connection = Connection.objects.filter(name=name).first()
        connector = get_connector(connection) if connection else None
        if connector is None or not hasattr(connector, "change_feed"):
            continue
        mark, _ = Watermark.objects.get_or_create(flow=flow, connection=connection, object=FEED_OBJECT)
        since = mark.position or (version.published_at or version.created_at).isoformat()
        try:
            batch = connector.change_feed(since)
        except ConnectorError as exc:
            log.warning("change feed of %s for flow %s failed: %s", name, flow.key, exc.message)
            continue
        with transaction.atomic():
            # Only the changes this flow waits for become events (a flow on opportunity.won
            # does not store every edit); ingest_event starts every flow waiting for them.
            for change in (c for c in batch.changes if c.type == trigger.get("event")):
                stored += ingest_event(source=connection.name, type=change.type, external_id=change.key,
                                       payload=change.payload, connection=connection).created  # fmt: skip
            Watermark.objects.filter(pk=mark.pk).update(position=batch.watermark or since)
    return stored
