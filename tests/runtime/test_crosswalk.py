"""Crosswalk links feed map steps: a linked id maps to its canonical id; an unlinked one is
a permanent exception naming the field."""

import pytest

from integrations.crosswalk.models import CrosswalkLink
from integrations.crosswalk.services import canonical_id, external_id, link
from integrations.events.services import ingest_event
from integrations.runs.models import RunException
from integrations.runs.services import execute_run
from tests.runtime.conftest import publish_flow

pytestmark = pytest.mark.django_db

CLIENT_FLOW = {
    "trigger": {"type": "event", "connection": "crm", "event": "deal.won"},
    "steps": [{"id": "shape", "type": "map", "fields": [
        {"to": "client_id", "from": "$.AccountId", "crosswalk": {"object": "client", "system": "salesforce"}}]}],
}  # fmt: skip


def test_links_are_idempotent_and_read_both_ways(db):
    first = link("client", "salesforce", "001A")
    assert link("client", "salesforce", "001A") == first
    link("client", "netsuite", "77", canonical=first.canonical_id)
    assert canonical_id("client", "salesforce", "001A") == first.canonical_id
    assert external_id("client", first.canonical_id, "netsuite") == "77"
    assert canonical_id("client", "salesforce", "nope") is None
    assert CrosswalkLink.objects.count() == 2


def test_a_map_step_uses_the_crosswalk(personas, crm, doorbells):
    publish_flow(personas["analyst"], CLIENT_FLOW, key="clients")
    canonical = link("client", "salesforce", "001A").canonical_id
    ok = ingest_event(source="crm", type="deal.won", external_id="1", payload={"AccountId": "001A"})
    run = execute_run(ok.runs[0].pk)
    assert run.status == "succeeded" and run.output["record"] == {"client_id": canonical}
    unknown = ingest_event(source="crm", type="deal.won", external_id="2", payload={"AccountId": "001Z"})
    failed = execute_run(unknown.runs[0].pk)
    exc = RunException.objects.get(run=failed)
    assert "crosswalk" in exc.message and exc.classification == "permanent"
