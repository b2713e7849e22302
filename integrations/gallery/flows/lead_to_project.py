"""Lead to project: a won opportunity becomes a project in the PSA and in the ERP.

Salesforce `opportunity.won` → the whole Opportunity (read first when the event carries only
changed fields) → canonical project@1 → commercial checks → approval above 250,000 → Kantata
workspace (external reference = the opportunity id, so a re-sent or re-won opportunity updates
the same workspace) → NetSuite customer (only when the account has no ERP customer id yet) and
NetSuite job (externalId = the canonical project id) → resource demand in Kantata → the PSA
id written back to the opportunity and a new ERP customer id to its account.

The canonical project id is the opportunity id: one project per won opportunity, the same id in
every system (NetSuite job externalId, Kantata external reference)."""

from dataclasses import dataclass

from integrations.gallery.flows import shared

APPROVAL_THRESHOLD = 250_000


@dataclass(frozen=True)
class CrmAccount:
    """Where a CRM keeps the won deal's client, as expressions over the steps: its ERP
    customer id (empty until the ERP knows it), its name, the externalId a new NetSuite
    customer gets, and the JSONPath into the event of its id (the customer's crosswalk link)."""

    erp_id: str
    name: str
    new_customer: str
    link_id: str


SALESFORCE = CrmAccount(
    "steps.account.ERP_Customer_Id__c", "steps.account.Name", shared.NEW_CUSTOMER_EXPR, "$.AccountId"
)

# Fields an `opportunity.won` payload must carry to be used as it is; a change event that
# lacks any of them is completed by reading the opportunity.
WHOLE = ("Name", "AccountId", "Amount", "CloseDate", "CurrencyIsoCode")


def is_partial() -> str:
    return " or ".join(f"record.{name} is not defined" for name in WHOLE)


def steps_before_erp() -> list[dict]:
    """Salesforce opportunity → canonical project → checks → approval → Kantata workspace."""
    return [
        {"id": "complete", "type": "lookup", "name": "Read the whole opportunity (a change event has only changes)",
         "when": is_partial(), "connection": "salesforce", "object": "Opportunity",
         "by": {"id": "{{ record.Id }}"}, "into": "whole"},
        {"id": "opportunity", "type": "map", "name": "The opportunity as received or as read", "fields": [
            {"to": "opp", "template": "{{ record.whole if record.whole is defined else record }}"}]},
        {"id": "project", "type": "map", "name": "Opportunity → canonical project", "target": "project@1", "fields": [
            {"to": "id", "from": "$.opp.Id", "required": True},
            {"to": "name", "from": "$.opp.Name", "required": True, "template": "{{ value | trim | truncate(255) }}"},
            {"to": "client_id", "from": "$.opp.AccountId", "required": True},
            {"to": "crm_opportunity_id", "from": "$.opp.Id"},
            {"to": "status", "constant": "won"},
            {"to": "billing_type", "constant": "time_and_materials"},
            {"to": "start_date", "type": "date", "required": True,
             "template": "{{ record.opp.Project_Start_Date__c | coalesce(record.opp.CloseDate) }}"},
            {"to": "currency", "from": "$.opp.CurrencyIsoCode", "default": "USD"},
            {"to": "contract_value", "from": "$.opp.Amount", "type": "money"},
            {"to": "region", "from": "$.opp.Region__c", "value_map": "regions", "default": "NA"},
            {"to": "description", "template": "Won in Salesforce ({{ record.opp.Id }})"}]},
        *checks_and_approval(),
        {"id": "account", "type": "lookup", "name": "The opportunity's account", "connection": "salesforce",
         "object": "Account", "by": {"id": "{{ steps.project.client_id }}"}},
        *psa_workspace(),
    ]  # fmt: skip


def checks_and_approval(deal: str = "opportunity") -> list[dict]:
    """Commercial terms on the canonical project, then approval above the threshold."""
    return [
        {"id": "terms", "type": "validate", "name": "Commercial terms", "schema": "project@1", "rules": [
            {"when": "record.contract_value is not defined or not record.contract_value or record.contract_value <= 0",
             "message": f"a won {deal} needs an amount above 0", "field": "contract_value"}]},
        {"id": "big_deal", "type": "approve", "name": "Delivery lead approves a large deal",
         "when": f"record.contract_value > {APPROVAL_THRESHOLD}", "approvers": {"group": "Approver"},
         "sla_hours": 24, "on_expiry": "escalate", "on_reject": "stop",
         "summary": "Set up {{ record.name }} ({{ record.contract_value | format_money(record.currency) }})"},
    ]  # fmt: skip


def psa_workspace(deal: str = "opportunity") -> list[dict]:
    """The canonical project as a Kantata workspace whose external reference is the project id."""
    return [
        {"id": "workspace", "type": "map", "name": "Project → Kantata workspace", "fields": [
            {"to": "title", "from": "$.name"},
            {"to": "description", "from": "$.description"},
            {"to": "creator_role", "constant": "maven"},
            {"to": "budgeted", "constant": True},
            {"to": "price", "from": "$.contract_value"},
            {"to": "currency", "from": "$.currency"},
            {"to": "start_date", "from": "$.start_date"}]},
        {"id": "psa", "type": "deliver", "name": f"Kantata workspace (one per {deal})", "connection": "kantata",
         "object": "workspaces", "action": "upsert", "external_id_field": "opportunity",
         "external_id": "{{ steps.project.id }}", "key": shared.versioned_key("psa-project")},
    ]  # fmt: skip


def customer_and_job(suffix: str = "", subsidiary: str = "1", when: str | None = None,
                     account: CrmAccount = SALESFORCE) -> list[dict]:  # fmt: skip
    """NetSuite customer (if new) and job. `suffix`/`when`: the regional variant repeats these
    steps once per subsidiary, each gated by its route. `account`: the CRM the client is read from."""
    new_customer = f"not {account.erp_id}"
    steps = [
        {"id": f"customer{suffix}", "type": "map", "name": "Account → NetSuite customer (only if new)",
         "when": new_customer, "fields": [
             {"to": "companyName", "template": "{{ " + account.name + " | truncate(83) }}"},
             {"to": "subsidiary.id", "constant": subsidiary}]},
        {"id": f"erp_customer{suffix}", "type": "deliver", "name": "NetSuite customer", "when": new_customer,
         "connection": "netsuite", "object": "customer", "action": "upsert", "external_id_field": "externalId",
         "link": {"object": "client", "id": account.link_id},
         "external_id": "{{ " + account.new_customer + " }}", "key": "erp-customer:{{ steps.project.client_id }}"},
        {"id": f"job{suffix}", "type": "map", "name": "Project → NetSuite job (billing structure)", "fields": [
            {"to": "companyName", "template": "{{ steps.project.name | truncate(83) }}"},
            {"to": "parent.externalId", "template": "{{ " + account.erp_id + " or " + account.new_customer + " }}"},
            {"to": "subsidiary.id", "constant": subsidiary},
            {"to": "startDate", "template": "{{ steps.project.start_date }}"},
            {"to": "allowTime", "constant": True},
            {"to": "allowExpenses", "constant": True},
            {"to": "jobBillingType.id", "template": "{{ steps.project.billing_type | value_map('billing_types') }}"}]},
        {"id": f"erp{suffix}", "type": "deliver", "name": "NetSuite job", "connection": "netsuite", "object": "job",
         "action": "upsert", "external_id_field": "externalId", "external_id": "{{ steps.project.id }}",
         "key": shared.versioned_key("erp-project")},
    ]  # fmt: skip
    for step in steps:
        if when:
            step["when"] = f"({step['when']}) and ({when})" if "when" in step else when
    return steps


def resource_demand() -> list[dict]:
    """The project's unfilled roles as a task in its Kantata workspace."""
    return [
        {"id": "demand", "type": "map", "name": "Resource demand (unfilled roles) → Kantata task", "fields": [
            {"to": "workspace_id", "template": "{{ steps.psa.remote_id }}", "required": True},
            {"to": "title", "template": "Staffing: unfilled roles for {{ steps.project.name | truncate(200) }}"},
            {"to": "story_type", "constant": "task"},
            {"to": "state", "constant": "not started"},
            {"to": "start_date", "template": "{{ steps.project.start_date }}"},
            {"to": "billable", "constant": False}]},
        # The task standing for the project's unfilled roles is linked as a crosswalk identity of
        # its own (no canonical schema, so no ownership rule holds its fields back).
        {"id": "psa_demand", "type": "deliver", "name": "Kantata resource demand", "connection": "kantata",
         "object": "stories", "action": "upsert", "external_id_field": "task", "link": {"object": "resource_demand"},
         "external_id": "demand:{{ steps.project.id }}", "key": "psa-demand:{{ steps.project.id }}"},
    ]  # fmt: skip


def steps_after_erp() -> list[dict]:
    """Resource demand in Kantata, then the ids written back to Salesforce."""
    return [
        *resource_demand(),
        {"id": "writeback", "type": "map", "name": "PSA id → the opportunity", "fields": [
            {"to": "PSA_Project_Id__c", "template": "{{ steps.psa.remote_id }}", "required": True}]},
        {"id": "crm", "type": "deliver", "name": "Salesforce opportunity updated", "connection": "salesforce",
         "object": "Opportunity", "action": "update", "external_id": "{{ steps.project.id }}",
         "key": "crm-writeback:{{ steps.project.id }}:{{ steps.psa.remote_id }}"},
        {"id": "account_writeback", "type": "map", "name": "New ERP customer id → the account",
         "when": "not steps.account.ERP_Customer_Id__c", "fields": [
             {"to": "ERP_Customer_Id__c", "template": shared.NEW_CUSTOMER_ID}]},
        {"id": "crm_account", "type": "deliver", "name": "Salesforce account updated", "connection": "salesforce",
         "when": "not steps.account.ERP_Customer_Id__c", "object": "Account", "action": "update",
         "external_id": "{{ steps.project.client_id }}", "key": "crm-account:{{ steps.project.client_id }}"},
    ]  # fmt: skip


DEFINITION = {
    "description": "A won Salesforce opportunity becomes a Kantata workspace and a NetSuite project (with its "
    "customer if new), resource demand in Kantata, and the PSA id written back to the opportunity. "
    f"Deals above {APPROVAL_THRESHOLD:,} wait for a delivery lead's approval.",
    "trigger": {"type": "event", "connection": "salesforce", "event": "opportunity.won"},
    "canonical": shared.PROJECT_FROM_CRM,
    "value_maps": {**shared.REGIONS, **shared.BILLING_TYPES},
    "steps": [*steps_before_erp(), *customer_and_job(), *steps_after_erp()],
}
