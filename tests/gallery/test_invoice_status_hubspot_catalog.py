"""Invoice status back to HubSpot as a definition (test-run: nothing is written): which
invoices reach a deal, and a late run never moves a paid invoice back to issued."""

from integrations.flows import engine_api
from integrations.flows.services import validate
from integrations.gallery.catalog import BY_KEY

INVOICE = {"id": "501", "tranid": "INV-9001", "entity": "300", "job": "700", "status": "A", "trandate": "2026-04-01",
           "lastmodifieddate": "2026-04-03T10:00:00Z", "duedate": "2026-05-01", "currency": "2",
           "total": "12500.50"}  # fmt: skip
DEAL = {"id": "18290000001", "properties": {"last_invoice_number": None, "last_invoice_status": None}}


def dry_run(project_id, invoice=INVOICE, deal=DEAL):
    reads = {"customer": {"id": "300", "externalId": "C-1"}, "job": {"id": "700", "externalId": project_id},
             "workspaces": {"id": "2001"}, "deals": deal}  # fmt: skip
    effects = engine_api.dry_run_effects(lookup=lambda step, request: reads[request["object"]])
    definition = BY_KEY["invoice-status-back-hubspot"].definition
    outcome = engine_api.run(engine_api.compile_flow(definition), invoice, effects)
    assert outcome.status == "completed", outcome.error
    return {s.step_id: s.status for s in outcome.steps}, {(d.connection, d.object): d for d in effects.deliveries}


def test_the_template_is_valid_and_polls_netsuite_invoices():
    t = BY_KEY["invoice-status-back-hubspot"]
    assert validate(t.definition) == [] and t.definition["trigger"]["object"] == "invoice"
    assert t.connections == ["netsuite", "kantata", "hubspot"] and t.canonical_objects == ["invoice_event"]


def test_an_invoice_of_a_deal_project_updates_the_deal_properties():
    _, writes = dry_run("18290000001")
    deal = writes[("hubspot", "deals")]
    assert (deal.action, deal.external_id) == ("update", "18290000001")
    assert deal.payload == {"last_invoice_number": "INV-9001", "last_invoice_status": "Issued",
                            "last_invoice_amount": 12500.5, "last_invoice_currency": "EUR",
                            "last_invoice_date": "2026-04-01", "last_invoice_paid_date": ""}  # fmt: skip
    assert writes[("kantata", "stories")].payload["state"] == "started"


def test_projects_that_are_not_deals_get_no_deal_lookup_and_no_crm_write():
    for project_id in ("PRJ-2025-0001", "0065g000000AcmeQAA"):
        steps, writes = dry_run(project_id)
        assert steps["deal"] == "skipped" and ("hubspot", "deals") not in writes
        assert ("kantata", "stories") in writes  # the PSA still hears of it
    steps, writes = dry_run("18299999999", deal=None)  # no such deal
    assert steps["crm"] == "skipped" and ("hubspot", "deals") not in writes


def test_a_late_run_never_moves_a_paid_invoice_back_to_issued():
    paid = {"id": "18290000001", "properties": {"last_invoice_number": "INV-9001", "last_invoice_status": "Paid"}}
    steps, writes = dry_run("18290000001", deal=paid)
    assert steps["crm"] == "skipped" and ("hubspot", "deals") not in writes
    _, writes = dry_run("18290000001", invoice={**INVOICE, "status": "B"}, deal=paid)
    assert writes[("hubspot", "deals")].payload["last_invoice_paid_date"] == "2026-04-03"
