"""Lead to project from HubSpot: a deal moved to the closed-won stage becomes a project in the
PSA and in the ERP, on the same path as the Salesforce flow (lead_to_project.py's builders).

HubSpot tells a stage change with a `deal.propertyChange` webhook on `dealstage` that carries
only the deal's id and the new value (https://developers.hubspot.com/docs-beta/webhooks), so
every run reads the deal (with its associated company) first; a change to any other stage or
property goes no further than the first step. Then: canonical project@1 → commercial checks →
approval above 250,000 → Kantata workspace (external reference = the deal id, so a deal won
again updates the same workspace) → NetSuite customer (only when the company has no ERP
customer id yet; externalId `HS-<company id>`) and NetSuite job (externalId = the deal id) →
resource demand in Kantata → the PSA and ERP project ids written to the deal's custom
properties `psa_project_id` and `erp_project_id`, and a new ERP customer id to the company's
`erp_customer_id`.

The canonical project id, and the runs' business key, is the deal id. The webhook does not
name the company, so the NetSuite customer is linked in the crosswalk only when the event's
payload is a deal as the CRM API returns it (with `associations`)."""

from integrations.gallery.flows import lead_to_project as path
from integrations.gallery.flows import shared

# The closed-won stage of HubSpot's default deal pipeline (a stage's internal id).
WON_STAGE = "closedwon"
IS_WON = (
    f"record.propertyName is defined and record.propertyName == 'dealstage' and record.propertyValue == '{WON_STAGE}'"
)
COMPANY = path.CrmAccount(
    erp_id="steps.company.properties.erp_customer_id",
    name="steps.company.properties.name",
    new_customer="'HS-' ~ steps.project.client_id",
    link_id="$.associations.companies.results[0].id",
)
NEW_CUSTOMER = f"not {COMPANY.erp_id}"


def deal_to_project() -> list[dict]:
    """The deal (read by the id the webhook carries) → canonical project."""
    return [
        {"id": "deal", "type": "lookup", "name": "Read the deal and its company (the webhook has only the change)",
         "connection": "hubspot", "object": "deals", "by": {"id": "{{ record.objectId }}"}, "into": "deal"},
        {"id": "project", "type": "map", "name": "Deal → canonical project", "target": "project@1", "fields": [
            {"to": "id", "from": "$.deal.id", "required": True},
            {"to": "name", "from": "$.deal.properties.dealname", "required": True,
             "template": "{{ value | trim | truncate(255) }}"},
            {"to": "client_id", "from": "$.deal.associations.companies.results[0].id", "required": True},
            {"to": "crm_opportunity_id", "from": "$.deal.id"},
            {"to": "status", "constant": "won"},
            {"to": "billing_type", "constant": "time_and_materials"},
            {"to": "start_date", "from": "$.deal.properties.closedate", "type": "date", "required": True,
             "template": "{{ value | as_date }}"},
            {"to": "currency", "from": "$.deal.properties.deal_currency_code", "default": "USD"},
            # HubSpot keeps a cleared property as "": no amount, as an unset one.
            {"to": "contract_value", "from": "$.deal.properties.amount", "type": "money",
             "template": "{{ value or none }}"},
            {"to": "region", "from": "$.deal.properties.region", "value_map": "regions", "default": "NA"},
            {"to": "description", "template": "Won in HubSpot (deal {{ record.deal.id }})"}]},
    ]  # fmt: skip


def write_back() -> list[dict]:
    """The PSA and ERP project ids → the deal; a new ERP customer id → the company."""
    return [
        {"id": "writeback", "type": "map", "name": "PSA and ERP ids → the deal", "fields": [
            {"to": "psa_project_id", "template": "{{ steps.psa.remote_id }}", "required": True},
            {"to": "erp_project_id", "template": "{{ steps.erp.remote_id }}", "required": True}]},
        {"id": "crm", "type": "deliver", "name": "HubSpot deal updated", "connection": "hubspot",
         "object": "deals", "action": "update", "external_id": "{{ steps.project.id }}",
         "key": "crm-writeback:{{ steps.project.id }}:{{ steps.psa.remote_id }}:{{ steps.erp.remote_id }}"},
        {"id": "company_writeback", "type": "map", "name": "New ERP customer id → the company",
         "when": NEW_CUSTOMER, "fields": [
             {"to": "erp_customer_id", "template": "{{ " + COMPANY.new_customer + " }}"}]},
        {"id": "crm_company", "type": "deliver", "name": "HubSpot company updated", "connection": "hubspot",
         "when": NEW_CUSTOMER, "object": "companies", "action": "update",
         "external_id": "{{ steps.project.client_id }}", "key": "crm-company:{{ steps.project.client_id }}"},
    ]  # fmt: skip


def steps() -> list[dict]:
    after_gate = [
        *deal_to_project(),
        *path.checks_and_approval("deal"),
        {"id": "company", "type": "lookup", "name": "The deal's company", "connection": "hubspot",
         "object": "companies", "by": {"id": "{{ steps.project.client_id }}"}},
        *path.psa_workspace("deal"),
        *path.customer_and_job(account=COMPANY),
        *path.resource_demand(),
        *write_back(),
    ]  # fmt: skip
    # Only a move to closed won goes on: every other stage change ends the run here, its
    # steps skipped as "not selected by route closed_won".
    gate = {"id": "closed_won", "type": "route", "name": "Only a deal moved to closed won",
            "rules": [{"name": "won", "when": IS_WON, "to": [s["id"] for s in after_gate]}]}  # fmt: skip
    return [gate, *after_gate]


DEFINITION = {
    "description": "A HubSpot deal moved to closed won becomes a Kantata workspace and a NetSuite project (with "
    "its customer if new), resource demand in Kantata, and the PSA and ERP ids written back to the deal. "
    f"Deals above {path.APPROVAL_THRESHOLD:,} wait for a delivery lead's approval.",
    "trigger": {"type": "event", "connection": "hubspot", "event": "deal.propertyChange"},
    "canonical": {"object": "project", "source": "hubspot", "id": "$.objectId"},
    "value_maps": {**shared.REGIONS, **shared.BILLING_TYPES},
    "steps": steps(),
}
