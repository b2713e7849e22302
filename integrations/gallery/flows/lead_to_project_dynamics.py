"""Lead to project with Dynamics 365 as the ERP: the Salesforce lead-to-project path
(lead_to_project.py's builders) with its ERP side in Dataverse / Project Operations.

Salesforce `opportunity.won` → the whole Opportunity → canonical project@1 → commercial checks
→ approval above 250,000 → Kantata workspace → Dynamics `accounts` record (only when the
Salesforce account has no ERP customer id yet; upserted by its alternate key `accountnumber`
= `SF-<account id>`) → `msdyn_projects` record (upserted by the alternate key
`sb_externalref` = the canonical project id, its customer bound by that account number) →
its billing structure as a project contract line (`salesorderdetails`, `msdyn_billingmethod`
Time and Material or Fixed Price, bound to the project) → resource demand in Kantata → the
PSA id written back to the opportunity and a new ERP customer id (the account number) to its
account, in the same Salesforce fields as the NetSuite flow.

Project Operations keeps the billing method on the contract line, not on the project
(https://learn.microsoft.com/en-us/dynamics365/project-operations/pro/sales/manage-contract-values-project-based-sales);
the project's fields are msdyn_project's
(https://docs.microsoft.com/fr-fr/dynamics365/customerengagement/on-premises/developer/entities/msdyn_project?view=op-9-1).
Lookups name their record by an alternate key, `/accounts(accountnumber='…')`
(https://learn.microsoft.com/en-us/power-apps/developer/data-platform/use-alternate-key-reference-record)."""

from integrations.gallery.flows import lead_to_project as path
from integrations.gallery.flows import shared

ACCOUNT = path.SALESFORCE
NEW_CUSTOMER = f"not {ACCOUNT.erp_id}"
# The account number of the project's customer: the account's ERP customer id, else the new one.
ACCOUNT_NUMBER = f"({ACCOUNT.erp_id} or {ACCOUNT.new_customer})"
# canonical project billing_type → msdyn_billingmethod (192350000 Time and Material, 192350001 Fixed Price)
BILLING_METHODS = {
    "billing_methods": {
        "time_and_materials": 192350000, "fixed_fee": 192350001, "retainer": 192350001, "non_billable": 192350000,
    }
}  # fmt: skip


def odata_key(expression: str) -> str:
    """A template for an OData key literal: quotes doubled, as Dataverse reads them."""
    return "{{ " + expression + ' | replace("\'", "\'\'") }}'


def account_project_and_billing() -> list[dict]:
    """Dynamics account (if new), msdyn_project bound to it, and its contract line."""
    return [
        {"id": "customer", "type": "map", "name": "Account → Dynamics account (only if new)",
         "when": NEW_CUSTOMER, "fields": [
             {"to": "name", "template": "{{ " + ACCOUNT.name + " | truncate(160) }}"}]},
        {"id": "erp_customer", "type": "deliver", "name": "Dynamics account", "when": NEW_CUSTOMER,
         "connection": "dynamics", "object": "accounts", "action": "upsert", "external_id_field": "accountnumber",
         "link": {"object": "client", "id": ACCOUNT.link_id},
         "external_id": "{{ " + ACCOUNT.new_customer + " }}", "key": "dyn-customer:{{ steps.project.client_id }}"},
        {"id": "dyn_project", "type": "map", "name": "Project → Project Operations project", "fields": [
            {"to": "msdyn_subject", "template": "{{ steps.project.name | truncate(200) }}"},
            {"to": "msdyn_description", "template": "{{ steps.project.description }}"},
            {"to": "msdyn_scheduledstart", "template": "{{ steps.project.start_date }}T00:00:00Z"},
            # `<nav>.bind`: the connector sends it as `msdyn_customer_account@odata.bind`.
            {"to": "msdyn_customer_account.bind",
             "template": "/accounts(accountnumber='" + odata_key(ACCOUNT_NUMBER) + "')"}]},
        {"id": "erp", "type": "deliver", "name": "Project Operations project", "connection": "dynamics",
         "object": "msdyn_projects", "action": "upsert", "external_id_field": "sb_externalref",
         "external_id": "{{ steps.project.id }}", "key": shared.versioned_key("dyn-project")},
        {"id": "billing", "type": "map", "name": "Billing structure → project contract line", "fields": [
            {"to": "productdescription", "template": "{{ steps.project.name | truncate(500) }}"},
            {"to": "msdyn_billingmethod", "template": "{{ steps.project.billing_type }}",
             "value_map": "billing_methods"},
            {"to": "priceperunit", "template": "{{ steps.project.contract_value }}", "type": "money"},
            {"to": "msdyn_Project.bind",
             "template": "/msdyn_projects(sb_externalref='" + odata_key("steps.project.id") + "')"}]},
        # The contract line is an identity of its own (the project's Dynamics id is the msdyn_project).
        {"id": "erp_billing", "type": "deliver", "name": "Project contract line (billing method)",
         "connection": "dynamics", "object": "salesorderdetails", "action": "upsert",
         "external_id_field": "sb_externalref", "link": {"object": "contract_line"},
         "external_id": "{{ steps.project.id }}", "key": shared.versioned_key("dyn-billing")},
    ]  # fmt: skip


DEFINITION = {
    "description": "A won Salesforce opportunity becomes a Kantata workspace and a Dynamics 365 project (with "
    "its account if new, and its billing method on a project contract line), resource demand in Kantata, and "
    f"the PSA id written back to the opportunity. Deals above {path.APPROVAL_THRESHOLD:,} wait for a delivery "
    "lead's approval.",
    "trigger": {"type": "event", "connection": "salesforce", "event": "opportunity.won"},
    "canonical": shared.PROJECT_FROM_CRM,
    "value_maps": {**shared.REGIONS, **BILLING_METHODS},
    "steps": [*path.steps_before_erp(), *account_project_and_billing(), *path.steps_after_erp()],
}
