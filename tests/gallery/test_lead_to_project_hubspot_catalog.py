"""Lead to project from HubSpot as a definition (test-run: nothing is written): a deal moved to
closed won is read with its company and goes to Kantata, NetSuite and back to the deal; any
other stage change stops at the first step; a company that has an ERP customer id gets no new
customer."""

from integrations.flows import engine_api
from integrations.flows.services import validate
from integrations.gallery.catalog import BY_KEY

DEAL = {
    "id": "18290000001", "associations": {"companies": {"results": [{"id": "9870000001", "type": "deal_to_company"}]}},
    "properties": {"dealname": "Acme - Data Platform", "amount": "120000", "closedate": "2026-03-01T00:00:00Z",
                   "deal_currency_code": "EUR", "region": "EMEA", "dealstage": "closedwon"},
}  # fmt: skip
COMPANY = {"id": "9870000001", "properties": {"name": "Acme Corp", "erp_customer_id": None}}
WON = {"objectId": 18290000001, "subscriptionType": "deal.propertyChange", "propertyName": "dealstage",
       "propertyValue": "closedwon"}  # fmt: skip


def dry_run(record, company=COMPANY):
    reads = {"deals": DEAL, "companies": company}
    effects = engine_api.dry_run_effects(lookup=lambda step, request: reads[request["object"]])
    definition = BY_KEY["lead-to-project-hubspot"].definition
    outcome = engine_api.run(engine_api.compile_flow(definition), record, effects)
    return outcome, {(d.connection, d.object): d for d in effects.deliveries}


def test_the_template_is_valid_and_reacts_to_hubspot_deal_stage_changes():
    t = BY_KEY["lead-to-project-hubspot"]
    assert validate(t.definition) == []
    assert t.definition["trigger"] == {"type": "event", "connection": "hubspot", "event": "deal.propertyChange"}
    assert t.connections == ["hubspot", "kantata", "netsuite"] and t.canonical_objects == ["project"]


def test_a_deal_moved_to_closed_won_is_read_then_written_to_psa_erp_and_back():
    outcome, writes = dry_run(WON)
    assert outcome.status == "completed", outcome.error
    workspace = writes[("kantata", "workspaces")]
    assert (workspace.external_id_field, workspace.external_id) == ("opportunity", "18290000001")
    assert workspace.payload["title"] == "Acme - Data Platform" and workspace.payload["currency"] == "EUR"
    assert workspace.payload["start_date"] == "2026-03-01" and workspace.payload["price"] == 120000
    customer = writes[("netsuite", "customer")]
    assert customer.external_id == "HS-9870000001" and customer.payload["companyName"] == "Acme Corp"
    job = writes[("netsuite", "job")]
    assert job.external_id == "18290000001" and job.payload["parent"] == {"externalId": "HS-9870000001"}
    deal = writes[("hubspot", "deals")]
    assert (deal.action, deal.external_id) == ("update", "18290000001")
    assert set(deal.payload) == {"psa_project_id", "erp_project_id"}
    assert writes[("hubspot", "companies")].payload == {"erp_customer_id": "HS-9870000001"}


def test_other_stage_changes_go_no_further_than_the_gate():
    for change in ({**WON, "propertyValue": "closedlost"}, {**WON, "propertyName": "amount"}, {"objectId": 1}):
        outcome, writes = dry_run(change)
        assert outcome.status == "completed" and not writes
        assert {s.status for s in outcome.steps if s.step_id != "closed_won"} == {"skipped"}


def test_a_company_known_to_the_erp_gets_no_new_customer():
    known = {**COMPANY, "properties": {"name": "Acme Corp", "erp_customer_id": "C-10003"}}
    _, writes = dry_run(WON, known)
    assert ("netsuite", "customer") not in writes and ("hubspot", "companies") not in writes
    assert writes[("netsuite", "job")].payload["parent"] == {"externalId": "C-10003"}


def test_a_deal_above_the_threshold_waits_for_a_delivery_lead_and_one_without_amount_is_refused():
    big = {**DEAL, "properties": {**DEAL["properties"], "amount": "300000"}}
    effects = engine_api.dry_run_effects(lookup=lambda step, request: {"deals": big, "companies": COMPANY}[
        request["object"]])  # fmt: skip
    outcome = engine_api.run(engine_api.compile_flow(BY_KEY["lead-to-project-hubspot"].definition), WON, effects)
    assert {s.step_id: s.status for s in outcome.steps}["big_deal"] == "succeeded"  # test-run: "would wait"
    free = {**DEAL, "properties": {**DEAL["properties"], "amount": ""}}
    effects = engine_api.dry_run_effects(lookup=lambda step, request: {"deals": free, "companies": COMPANY}[
        request["object"]])  # fmt: skip
    outcome = engine_api.run(engine_api.compile_flow(BY_KEY["lead-to-project-hubspot"].definition), WON, effects)
    assert outcome.status == "failed" and not effects.deliveries
    assert {d["field"]: d["message"] for d in outcome.error.details} == {
        "contract_value": "a won deal needs an amount above 0"}  # fmt: skip
