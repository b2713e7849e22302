"""A flow for the step panel tests: an event trigger on Salesforce, a map step onto the
canonical project, an approval, a route and two deliveries; the last Salesforce event is the
sample every panel shows."""

import pytest

from integrations.events.models import Event
from integrations.flows import services

OPPORTUNITY = {
    "Id": "006A000001",
    "Name": "Acme rollout",
    "AccountId": "001A000009",
    "StageName": "Closed Won",
    "Amount": 300000.0,
    "CurrencyIsoCode": "EUR",
    "CloseDate": "2026-03-01",
    "Region__c": "Europe",
    "Owner": {"Email": "pm@example.com", "Username": "approver"},
}
DEFINITION = {
    "trigger": {"type": "event", "connection": "salesforce", "event": "opportunity.won"},
    "value_maps": {"regions": {"Europe": "EMEA", "North America": "NA"}},
    "steps": [
        {"id": "project", "type": "map", "target": "project@1", "fields": [{"to": "name", "from": "$.Name"}]},
        {"id": "big_deal", "type": "approve", "approvers": {"group": "Approver"}, "summary": "{{ record.name }}"},
        {"id": "by_region", "type": "route", "otherwise": "erp_na",
         "rules": [{"name": "emea", "when": "record.region == 'EMEA'", "to": "erp_emea"}]},
        {"id": "erp_emea", "type": "deliver", "connection": "netsuite", "object": "job", "action": "upsert",
         "key": "opp-{{ input.Id }}", "external_id_field": "externalId"},
        {"id": "erp_na", "type": "deliver", "connection": "netsuite", "object": "job", "action": "upsert",
         "key": "opp-{{ input.Id }}", "external_id_field": "externalId"},
    ],
}  # fmt: skip


@pytest.fixture
def panel_flow(personas):
    flow = services.create_flow(personas["analyst"], key="opp", name="Opportunity → project")
    services.save_draft(flow, personas["analyst"], DEFINITION, strict=False)
    Event.objects.create(source="salesforce", type="opportunity.won", external_id="e1", payload=OPPORTUNITY)
    return flow


def draft_step(flow, index: int) -> dict:
    return services.draft_of(flow).definition["steps"][index]


def hx(client, method: str, url: str, data=None):
    """A request as htmx sends it (the panel answers with the fragment)."""
    return getattr(client, method)(url, data or {}, HTTP_HX_REQUEST="true")
