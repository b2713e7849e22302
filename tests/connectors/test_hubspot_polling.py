"""HubSpot as documented: search has its own, lower rate limit and indexes changes a few
moments late, so a poll overlaps its watermark and the intake deduplicates; a batch upsert
answers 207 with one error per failed input, and each becomes its own error and exception."""

from __future__ import annotations

import time

import pytest

from integrations.connections.models import Connection
from integrations.connectors.hubspot import HubSpotConnector
from integrations.events.models import Event
from integrations.flows.services import create_flow, publish
from integrations.runs.batch.records import open_item_exceptions
from integrations.runs.choices import Trigger
from integrations.runs.models import RunException
from integrations.runs.services import create_run
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.hubspot import VENDOR
from integrations.sandboxes.hubspot.search_limit import SEARCH_PER_SECOND
from integrations.sandboxes.hubspot.seed import seed
from integrations.triggers.polls import poll
from tests.connectors.shapes import assert_transient, refusal

pytestmark = pytest.mark.django_db(transaction=True)
LAG = 1.0


@pytest.fixture
def hubspot(sandbox_origin, settings):
    settings.SWITCHBOARD_SANDBOX_HUBSPOT_SEARCH_LAG = LAG
    seed("test")
    creds = sandbox_credentials(VENDOR)
    connection = Connection(name="hubspot", kind=VENDOR, base_url=f"{sandbox_origin}/sandbox/{VENDOR}",
                            config={"client_id": creds["client_id"]})  # fmt: skip
    connection.set_credentials({"access_token": creds["access_token"], "client_secret": creds["client_secret"]})
    connection.save()
    return HubSpotConnector(connection)


def deal(**props) -> dict:
    return {"dealname": "Globex - Data Platform", "dealstage": "qualifiedtobuy", "amount": 90000, **props}


def search(hubspot: HubSpotConnector):
    body = {"filterGroups": [], "limit": 1}
    return hubspot.request("POST", "crm/v3/objects/deals/search", json=body, raise_for_status=False)


def test_search_has_its_own_lower_limit_per_account(hubspot, settings):
    settings.SWITCHBOARD_SANDBOX_HUBSPOT_SEARCH_WINDOW = 10  # four per window; a slow machine fits in ten seconds
    time.sleep(10.02 - time.time() % 10)  # start at the top of a window: one window for all
    answers = [search(hubspot).status_code for _ in range(SEARCH_PER_SECOND + 1)]
    assert answers == [200] * SEARCH_PER_SECOND + [429]
    error = refusal(hubspot.raise_for_response, search(hubspot))
    assert_transient(error, status=429, retry_after=1.0, vendor_code="SECONDLY")
    hubspot.read("deals", "18290000001")  # the rest of the API is not held back


def test_the_connector_paces_its_searches_and_is_never_throttled(hubspot):
    started = time.monotonic()
    for _ in range(2 * SEARCH_PER_SECOND + 1):
        hubspot.query("deals", since="2025-01-01T00:00:00Z", page_size=1)
    assert time.monotonic() - started >= 1.0  # two full seconds' worth of searches, spaced


def test_a_change_is_searchable_only_after_the_indexing_delay(hubspot):
    changed = hubspot.update("deals", "18290000001", {"amount": 1}).remote_id
    stamp = store.get(VENDOR, "deals", changed).data["updatedAt"]
    assert changed not in [r["id"] for r in hubspot.query("deals", since=stamp).records]
    time.sleep(LAG + 0.2)
    assert changed in [r["id"] for r in hubspot.query("deals", since=stamp).records]


def test_a_poll_overlaps_its_watermark_and_stores_each_change_once(hubspot, personas):
    shape = {"id": "shape", "type": "map", "fields": [{"to": "name", "from": "$.properties.dealname"}]}
    trigger = {"type": "poll", "connection": "hubspot", "object": "deals", "cron": "*/5 * * * *"}
    definition = {"trigger": trigger, "steps": [shape]}
    flow = create_flow(personas["analyst"], key="deal-sync", name="Deal sync", definition=definition)
    publish(flow, personas["analyst"])
    first = poll(flow.pk)
    assert first == Event.objects.count() > 0
    time.sleep(LAG + 0.2)  # the seed itself becomes searchable
    hubspot.update("deals", "18290000002", {"amount": 7})
    assert poll(flow.pk) == 0  # not indexed yet: a poll without overlap would now move past it
    newer = hubspot.create("deals", deal(dealname="Newer")).remote_id
    time.sleep(LAG + 0.2)
    assert poll(flow.pk) == 2  # the late-indexed change and the newer deal, once each
    assert poll(flow.pk) == 0  # the overlap reads both again; the intake stores nothing twice
    ids = [e.payload["id"] for e in Event.objects.order_by("-id")[:2]]
    assert sorted(ids) == sorted(["18290000002", newer])


def test_a_207_answer_gives_each_failed_input_its_own_error_and_exception(hubspot, personas):
    records = {"SB-1": deal(), "SB-2": deal(dealstage="nope"), "SB-3": deal(amount="lots")}
    inputs = [{"idProperty": "external_id", "id": k, "properties": hubspot._props(v)} for k, v in records.items()]
    raw = hubspot.request("POST", "crm/v3/objects/deals/batch/upsert", json={"inputs": inputs})
    assert raw.status_code == 207 and raw.json()["numErrors"] == 2
    store.records(VENDOR, "deals").filter(external_id="SB-1").delete()
    outcome = hubspot.upsert_many("deals", "external_id", records)
    assert list(outcome.results) == ["SB-1"] and outcome.results["SB-1"].created
    assert store.records(VENDOR, "deals").filter(external_id__in=list(records)).count() == 1
    assert set(outcome.errors) == {"SB-2", "SB-3"}
    assert outcome.errors["SB-2"].kind == "permanent" and outcome.errors["SB-2"].vendor_code == "VALIDATION_ERROR"
    assert "nope" in outcome.errors["SB-2"].message and outcome.fields == {"SB-2": "dealstage", "SB-3": "amount"}
    # A single upsert whose input failed raises that input's own error, not a batch-wide one.
    error = refusal(hubspot.upsert, "deals", "external_id", "SB-4", deal(dealstage="nope"))
    assert error.vendor_code == "VALIDATION_ERROR" and "INVALID_OPTION" in error.message
    # The runs app opens one exception per failed record from these failures.
    definition = {"trigger": {"type": "manual"},
                  "steps": [{"id": "shape", "type": "map", "fields": [{"to": "name", "from": "$.name"}]}]}  # fmt: skip
    flow = create_flow(personas["analyst"], key="deal-push", name="Deal push", definition=definition)
    run = create_run(publish(flow, personas["analyst"]), trigger=Trigger.MANUAL, record={})
    open_item_exceptions(run, outcome.failures(records, step_id="push"))
    opened = RunException.objects.filter(run=run).order_by("item")
    assert [(e.item, e.field, e.classification) for e in opened] == [
        ("record:SB-2", "dealstage", "permanent"), ("record:SB-3", "amount", "permanent")]  # fmt: skip
    assert opened[0].original_input == records["SB-2"]  # what a person retries it from
