"""Salesforce change capture without webhooks: SOQL on SystemModstamp with an overlapping
window, events typed as the Change Data Capture header describes them, and the change feed
that starts the demo's `opportunity.won` flow."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.connections.demo import demo_values
from integrations.connections.models import Connection
from integrations.connections.services import create_connection
from integrations.connectors.registry import get_connector
from integrations.connectors.salesforce_changes import OVERLAP_SECONDS, classify
from integrations.events.models import Event
from integrations.flows.demo import seed as seed_flows
from integrations.flows.models import Watermark
from integrations.runs.models import Run
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.salesforce import VENDOR
from integrations.sandboxes.salesforce.records import stamp
from integrations.sandboxes.salesforce.seed import seed
from integrations.triggers.feeds import poll_feeds
from tests.connectors.contract import use_sandboxes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("header", "fields", "kind"),
    [
        # A CREATE carries every non-null field and an empty changedFields.
        ({"entityName": "Opportunity", "changeType": "CREATE", "changedFields": []}, {"StageName": "Closed Won"},
         "opportunity.won"),
        ({"entityName": "Opportunity", "changeType": "CREATE", "changedFields": []}, {"StageName": "Prospecting"},
         "opportunity.create"),
        ({"entityName": "Opportunity", "changeType": "UPDATE", "changedFields": ["StageName", "LastModifiedDate"]},
         {"StageName": "Closed Won"}, "opportunity.won"),
        # Won long ago, now only the amount changed: not a new win.
        ({"entityName": "Opportunity", "changeType": "UPDATE", "changedFields": ["Amount", "LastModifiedDate"]},
         {"StageName": "Closed Won", "Amount": 5}, "opportunity.update"),
        ({"entityName": "Opportunity", "changeType": "GAP_UPDATE", "changedFields": []}, {}, "opportunity.gap"),
        ({"entityName": "Account", "changeType": "DELETE", "changedFields": []}, {}, "account.delete"),
    ],
)  # fmt: skip
def test_change_events_are_typed_as_the_cdc_header_describes(header, fields, kind):
    assert classify(header, fields) == kind


@pytest.fixture
def salesforce(live_server, settings):
    use_sandboxes(live_server, settings)
    seed("test")
    return get_connector(create_connection("system:test", name=VENDOR, kind=VENDOR, **demo_values(VENDOR)))


def test_poll_overlaps_its_watermark_and_a_late_commit_is_not_missed(salesforce):
    won = salesforce.create("Opportunity", {"Name": "Late", "StageName": "Closed Won", "CloseDate": "2026-03-01"})
    first = salesforce.change_feed((timezone.now() - timedelta(minutes=5)).isoformat())
    assert [c.type for c in first.changes if c.payload["Id"] == won.remote_id] == ["opportunity.won"]
    # A transaction that committed late carries a stamp older than the watermark.
    row = store.records(VENDOR, "Opportunity").get(record_id=won.remote_id)
    late = salesforce.create("Opportunity", {"Name": "Slow", "StageName": "Closed Won", "CloseDate": "2026-03-01"})
    slow = store.records(VENDOR, "Opportunity").get(record_id=late.remote_id)
    older = stamp(timezone.now() - timedelta(seconds=OVERLAP_SECONDS // 2))
    store.update(slow, {**slow.data, "SystemModstamp": older, "CreatedDate": older, "LastModifiedDate": older})
    second = salesforce.change_feed(first.watermark)
    keys = {c.key: c.type for c in second.changes}
    assert keys[f"won:{late.remote_id}"] == "opportunity.won"
    assert f"won:{row.record_id}" in keys  # read again inside the overlap, same key: deduplicated downstream
    assert second.watermark >= first.watermark  # the watermark never goes back


def test_the_change_feed_starts_the_won_flow_once(salesforce):
    from integrations.connections.services import create_connection as connect

    connect("system:test", name="kantata", kind="kantata", **demo_values("kantata"))
    seed_flows(io.StringIO())
    assert poll_feeds() == 0  # nothing changed since the flow was published
    opp = salesforce.create("Opportunity", {"Name": "Acme", "StageName": "Prospecting", "CloseDate": "2026-03-01"})
    salesforce.update("Opportunity", opp.remote_id, {"Amount": 1000})
    assert poll_feeds() == 0 and not Event.objects.exists()  # not won: no event stored for it
    salesforce.update("Opportunity", opp.remote_id, {"StageName": "Closed Won"})
    assert poll_feeds() == 1
    event = Event.objects.get()
    assert (event.source, event.type, event.payload["Id"]) == (VENDOR, "opportunity.won", opp.remote_id)
    assert Run.objects.filter(event=event).count() == 1
    salesforce.update("Opportunity", opp.remote_id, {"Amount": 2000})  # still won: not a second win
    assert poll_feeds() == 0 and Event.objects.count() == 1
    assert Watermark.objects.get(object="change-feed").position
    assert Connection.objects.get(name=VENDOR).kind == VENDOR
