"""Invoice status back's CRM steps in a test-run (nothing written): which invoices read an
opportunity (the project's own id, or the one a PRJ-… project is linked to in the crosswalk),
what the opportunity gets, and a late run that would move a paid invoice back."""

from integrations.flows import engine_api
from integrations.gallery.catalog import BY_KEY
from integrations.sandboxes.salesforce.ids import make_id
from tests.gallery.test_catalog import dry_run

OPPORTUNITY = make_id("Opportunity", 7)
PROJECT = "PRJ-2025-0001"


def dry_run_linked(record: dict, read, links: dict):
    """A test-run whose crosswalk knows `links` {(object, canonical id, system): the system's id}."""
    effects = engine_api.dry_run_effects(
        lookup=lambda step, request: read(request), crosswalk=lambda *_: None,
        linked_id=lambda o, c, s: links.get((o, c, s)))  # fmt: skip
    outcome = engine_api.run(engine_api.compile_flow(BY_KEY["invoice-status-back"].definition), record, effects)
    return outcome, {(d.connection, d.object): d for d in effects.deliveries}


def invoice(status: str = "A", job: str | None = "4000") -> dict:
    return {"id": "55", "tranid": "INV-1", "status": status, "entity": "7", "job": job,
            "lastmodifieddate": "2026-04-20T16:30:00+00:00", "trandate": "2026-04-01", "duedate": "2026-05-01",
            "currency": "3", "total": 980.125}  # fmt: skip


def reader(project_id: str, shown: tuple = (None, None)):
    """Look-ups answered as the sandboxes would; every request is kept."""
    asked: list[dict] = []

    def read(request: dict):
        asked.append(request)
        return {
            "customer": {"id": "7", "externalId": "CUS-7"},
            "job": {"id": "4000", "externalId": project_id},
            "workspaces": {"id": "900"},
            "Opportunity": {"Id": OPPORTUNITY, "Last_Invoice_Number__c": shown[0], "Last_Invoice_Status__c": shown[1]},
        }[request["object"]]

    return read, asked


def test_a_paid_invoice_on_a_won_opportunitys_project_sets_its_invoice_fields():
    read, asked = reader(OPPORTUNITY, ("INV-1", "Issued"))
    outcome, writes = dry_run("invoice-status-back", invoice("B"), read)
    assert outcome.status == "completed"
    assert {"object": "Opportunity", "by": {"id": OPPORTUNITY}} in [
        {k: r[k] for k in ("object", "by")} for r in asked]  # fmt: skip
    crm = writes[("salesforce", "Opportunity")]
    assert (crm.action, crm.external_id, crm.key) == ("update", OPPORTUNITY, f"crm-invoice:{OPPORTUNITY}:INV-1:B")
    assert crm.payload == {
        "Last_Invoice_Number__c": "INV-1", "Last_Invoice_Status__c": "Paid", "Last_Invoice_Amount__c": 980.13,
        "Last_Invoice_Currency__c": "GBP", "Last_Invoice_Date__c": "2026-04-01",
        "Last_Invoice_Paid_Date__c": "2026-04-20"}  # fmt: skip


def test_a_late_issued_run_never_moves_a_paid_invoice_back():
    read, _ = reader(OPPORTUNITY, ("INV-1", "Paid"))
    outcome, writes = dry_run("invoice-status-back", invoice("A"), read)
    assert outcome.status == "completed" and ("salesforce", "Opportunity") not in writes
    # another invoice's event still updates the opportunity
    read, _ = reader(OPPORTUNITY, ("INV-0", "Paid"))
    _, writes = dry_run("invoice-status-back", invoice("A"), read)
    assert writes[("salesforce", "Opportunity")].payload["Last_Invoice_Status__c"] == "Issued"


def test_a_prj_project_writes_to_the_opportunity_it_is_linked_to_in_the_crosswalk():
    read, asked = reader(PROJECT, ("INV-0", "Paid"))
    outcome, writes = dry_run_linked(invoice("B"), read, {("project", PROJECT, "salesforce"): OPPORTUNITY})
    assert outcome.status == "completed"
    assert {"object": "Opportunity", "by": {"id": OPPORTUNITY}} in [
        {k: r[k] for k in ("object", "by")} for r in asked]  # fmt: skip
    crm = writes[("salesforce", "Opportunity")]
    assert (crm.action, crm.external_id, crm.key) == ("update", OPPORTUNITY, f"crm-invoice:{OPPORTUNITY}:INV-1:B")
    assert crm.payload["Last_Invoice_Number__c"] == "INV-1" and crm.payload["Last_Invoice_Status__c"] == "Paid"
    # a link to something that is not an opportunity id is not read as one
    read, asked = reader(PROJECT)
    outcome, writes = dry_run_linked(invoice("B"), read, {("project", PROJECT, "salesforce"): "a0B000000000001"})
    assert outcome.status == "completed" and ("salesforce", "Opportunity") not in writes
    assert "Opportunity" not in [r["object"] for r in asked]


def test_no_opportunity_is_read_for_a_prj_project_without_a_link_nor_for_an_invoice_without_a_project():
    read, asked = reader(PROJECT)
    outcome, writes = dry_run_linked(invoice("A"), read, {("project", "PRJ-2025-0002", "salesforce"): OPPORTUNITY})
    assert outcome.status == "completed" and ("kantata", "stories") in writes
    assert "Opportunity" not in [r["object"] for r in asked] and ("salesforce", "Opportunity") not in writes
    assert [s.status for s in outcome.steps if s.step_id in ("crm_link", "opportunity", "crm")] == [
        "succeeded", "skipped", "skipped"]  # fmt: skip
    # a test-run not given a crosswalk reader reads no opportunity either
    outcome, writes = dry_run("invoice-status-back", invoice("A"), reader(PROJECT)[0])
    assert outcome.status == "completed" and ("salesforce", "Opportunity") not in writes
    read, asked = reader(OPPORTUNITY)
    outcome, writes = dry_run("invoice-status-back", invoice("A", job=None), read)
    assert outcome.status == "completed" and writes == {}
    assert [r["object"] for r in asked] == ["customer"]
