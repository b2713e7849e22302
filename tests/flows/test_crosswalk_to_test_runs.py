"""A map field with the reverse crosswalk form (`crosswalk: {"object", "to"}`: a canonical id →
a system's id) reads the real links in every studio dry run — the test-run, the replay preview
and the draft's impact preview — instead of showing `dry-run:…`, as the other direction does."""

import pytest

from integrations.crosswalk.services import link
from integrations.events.models import Event
from integrations.flows.testing import run_definition
from integrations.runs.preview import preview_replay
from studio.ui.flows.impact import SharedReads, output_of
from tests.runtime.conftest import publish_flow

pytestmark = pytest.mark.django_db

DEFINITION = {
    "trigger": {"type": "event", "connection": "erp", "event": "invoice.paid"},
    "steps": [
        {"id": "crm_link", "type": "map", "fields": [
            {"to": "project", "from": "$.project"},
            {"to": "opportunity_id", "from": "$.project",
             "crosswalk": {"object": "project", "to": "salesforce", "optional": True}},
            {"to": "client_sf", "from": "$.client", "crosswalk": {"object": "client", "to": "salesforce"}},
        ]},
        {"id": "crm", "type": "deliver", "connection": "salesforce", "object": "Opportunity", "action": "create",
         "key": "invoice:{{ record.project }}", "external_id_field": "project", "external_id": "{{ record.project }}"},
    ],
}  # fmt: skip
INVOICE = {"project": "PRJ-2025-0001", "client": "CL-7"}


@pytest.fixture
def links(db):
    link("project", "salesforce", "006A00000012345", "PRJ-2025-0001")
    link("client", "salesforce", "001A00000000007", "CL-7")


def written(deliveries: list) -> dict:
    assert len(deliveries) == 1
    return deliveries[0]["payload"]


def test_a_test_run_shows_the_id_the_system_has_for_the_canonical_record(links):
    result = run_definition(DEFINITION, INVOICE)
    assert result["status"] == "completed", result["error"]
    payload = written(result["deliveries"])
    assert payload["opportunity_id"] == "006A00000012345" and payload["client_sf"] == "001A00000000007"


def test_a_test_run_without_the_link_says_so_and_an_optional_field_is_left_out(links):
    unlinked = run_definition(DEFINITION, {**INVOICE, "client": "CL-404"})
    assert unlinked["status"] == "failed"
    assert "client 'CL-404' has no salesforce id in the crosswalk" in unlinked["error"]["message"]
    optional = run_definition(DEFINITION, {**INVOICE, "project": "PRJ-9"})
    assert optional["status"] == "completed" and "opportunity_id" not in written(optional["deliveries"])


def test_the_replay_and_impact_previews_read_the_link_too(links, personas):
    flow = publish_flow(personas["analyst"], DEFINITION, key="invoice-crm")
    event = Event.objects.create(source="erp", type="invoice.paid", external_id="e1", payload=INVOICE)
    rows = preview_replay(Event.objects.filter(pk=event.pk), flow=flow)
    assert written(rows[0]["deliveries"])["opportunity_id"] == "006A00000012345"
    out = output_of(flow.live_version, INVOICE, SharedReads())
    assert out["salesforce/Opportunity/invoice:PRJ-2025-0001"]["client_sf"] == "001A00000000007"
