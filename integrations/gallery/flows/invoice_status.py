"""Invoice status back: an invoice issued or paid in NetSuite is told to the PSA and the CRM.

NetSuite invoices (SuiteQL poll on lastmodifieddate) → the customer and job read for their
canonical ids (externalIds) → canonical invoice_event@1 (issued / paid from the status) →
the project's Kantata workspace found by its external reference (the canonical project id the
lead-to-project flow gave it) → a milestone in that workspace per invoice, completed when paid
→ the project's Salesforce opportunity read by its id → its invoice fields updated with the
invoice event (number, status, amount, currency, invoice date, date paid). Lead to project
makes the opportunity id the canonical project id (the job's externalId is that id); a project
the firm numbers itself (PRJ-2025-0001) finds its opportunity through its crosswalk link to
`salesforce` (reconcile/firm.py seed_links, or linked by hand).
An invoice of a project that has no Kantata workspace of ours gets no milestone; one whose
project has no opportunity id and no Salesforce link, or names an opportunity that does not
exist, gets no CRM write. Neither is an error.

The ERP owns every invoice_event field (docs/PS_MODEL.md): the CRM write says which canonical
field each opportunity field carries (`canonical_fields`), so a changed ownership rule holds
a field back as a conflict instead of writing it."""

STATUSES = {"invoice_status": {"A": "issued", "B": "paid", "Open": "issued", "Paid In Full": "paid"}}
CURRENCIES = {"netsuite_currency": {"1": "USD", "2": "EUR", "3": "GBP"}}
# canonical event type → the firm's restricted picklist Opportunity.Last_Invoice_Status__c
CRM_STATUSES = {
    "crm_invoice_status": {"issued": "Issued", "sent": "Sent", "partially_paid": "Partially Paid", "paid": "Paid",
                           "overdue": "Overdue", "voided": "Voided", "credited": "Credited"}
}  # fmt: skip


def is_opportunity_id(value: str) -> str:
    """A condition: `value` can be an opportunity's id, a Salesforce id (15 or 18 characters)
    with the Opportunity key prefix 006 (describe's keyPrefix). Projects the firm set up
    elsewhere have other ids (PRJ-2025-0001): reading those as an Opportunity would be a
    MALFORMED_ID error."""
    return f"{value} and {value}[:3] == '006' and {value} | length in [15, 18]"


IS_OPPORTUNITY_ID = is_opportunity_id("steps.event.project_id")
# Any other project id: the opportunity linked to the project in the crosswalk (none: left out).
TO_OPPORTUNITY = f"steps.event.project_id and not ({IS_OPPORTUNITY_ID})"
OPPORTUNITY_ID = (
    "(steps.crm_link.opportunity_id if steps.crm_link is defined and steps.crm_link.opportunity_id is defined"
    " else steps.event.project_id)"
)
# The same invoice is never moved back from Paid to an earlier status by a late run.
NOT_BACKWARDS = (
    "not (steps.opportunity.Last_Invoice_Number__c == steps.event.invoice_number"
    " and steps.opportunity.Last_Invoice_Status__c == 'Paid' and steps.event.event_type != 'paid')"
)
# A skipped look-up leaves no `steps.<id>` (an invoice without a project skips both).
HAS_WORKSPACE = "steps.workspace is defined and steps.workspace"
ON_OPPORTUNITY = f"steps.opportunity is defined and steps.opportunity and {NOT_BACKWARDS}"
# Which canonical invoice_event field each opportunity field carries (ownership checks).
CRM_FIELDS = {
    "Last_Invoice_Number__c": "invoice_number", "Last_Invoice_Status__c": "event_type",
    "Last_Invoice_Amount__c": "amount", "Last_Invoice_Currency__c": "currency",
    "Last_Invoice_Date__c": "invoice_date", "Last_Invoice_Paid_Date__c": "occurred_at",
}  # fmt: skip

DEFINITION = {
    "description": "Invoices created or paid in NetSuite become invoice events, a milestone in the project's "
    "Kantata workspace (completed when paid) and the last invoice's status on the project's Salesforce "
    "opportunity.",
    "trigger": {"type": "poll", "connection": "netsuite", "object": "invoice", "cron": "*/30 * * * *",
                "page_size": 200},
    "canonical": {"object": "invoice_event", "source": "netsuite", "id": "$.id"},
    "value_maps": {**STATUSES, **CURRENCIES, **CRM_STATUSES},
    "steps": [
        {"id": "customer", "type": "lookup", "name": "The invoice's customer", "connection": "netsuite",
         "object": "customer", "by": {"id": "{{ record.entity }}"}},
        {"id": "job", "type": "lookup", "name": "The invoice's project", "when": "record.job is defined and record.job",
         "connection": "netsuite", "object": "job", "by": {"id": "{{ record.job }}"}, "required": False},
        {"id": "event", "type": "map", "name": "NetSuite invoice → canonical invoice", "target": "invoice_event@1",
         "fields": [
            {"to": "id", "template": "{{ record.tranid }}:{{ record.status }}"},
            {"to": "invoice_number", "from": "$.tranid", "required": True},
            {"to": "client_id", "template": "{{ steps.customer.externalId | default(steps.customer.id) }}",
             "required": True},
            {"to": "project_id",
             "template": "{{ steps.job.externalId if steps.job is defined and steps.job else none }}"},
            {"to": "event_type", "from": "$.status", "value_map": "invoice_status", "required": True},
            {"to": "occurred_at", "template": "{{ record.lastmodifieddate | as_datetime }}", "type": "datetime"},
            {"to": "invoice_date", "from": "$.trandate", "template": "{{ value | as_date }}"},
            {"to": "due_date", "from": "$.duedate", "template": "{{ value | as_date }}"},
            {"to": "currency", "from": "$.currency", "value_map": "netsuite_currency", "default": "USD"},
            {"to": "amount", "from": "$.total", "type": "money", "required": True}]},
        {"id": "valid", "type": "validate", "name": "A complete invoice event", "schema": "invoice_event@1"},
        {"id": "workspace", "type": "lookup", "name": "The project's Kantata workspace",
         "when": "record.project_id", "connection": "kantata", "object": "workspaces",
         "by": {"opportunity": "{{ record.project_id }}"}, "required": False},
        {"id": "milestone", "type": "map", "name": "Invoice event → Kantata milestone", "when": HAS_WORKSPACE,
         "fields": [
            {"to": "workspace_id", "template": "{{ steps.workspace.id }}"},
            {"to": "title", "template": "Invoice {{ record.invoice_number }}: {{ record.event_type }}"},
            {"to": "story_type", "constant": "milestone"},
            {"to": "state", "template": "{{ 'completed' if record.event_type == 'paid' else 'started' }}"},
            {"to": "due_date", "from": "$.due_date"}]},
        {"id": "psa", "type": "deliver", "name": "Kantata milestone", "when": HAS_WORKSPACE,
         "connection": "kantata", "object": "stories", "action": "upsert", "external_id_field": "task",
         "external_id": "invoice:{{ steps.event.invoice_number }}", "key": "psa-invoice:{{ steps.event.id }}"},
        {"id": "crm_link", "type": "map", "name": "A PRJ project's Salesforce opportunity (crosswalk)",
         "when": TO_OPPORTUNITY, "fields": [
            {"to": "opportunity_id", "template": "{{ steps.event.project_id }}",
             "crosswalk": {"object": "project", "to": "salesforce", "optional": True}}]},
        # The linked id is checked like the project's own: only an opportunity id is read.
        {"id": "opportunity", "type": "lookup", "name": "The project's Salesforce opportunity",
         "when": is_opportunity_id(OPPORTUNITY_ID), "connection": "salesforce", "object": "Opportunity",
         "by": {"id": "{{ " + OPPORTUNITY_ID + " }}"}, "required": False},
        {"id": "invoice_fields", "type": "map", "name": "Invoice event → the opportunity's invoice fields",
         "when": ON_OPPORTUNITY, "fields": [
            {"to": "Last_Invoice_Number__c", "template": "{{ steps.event.invoice_number }}"},
            {"to": "Last_Invoice_Status__c",
             "template": "{{ steps.event.event_type | value_map('crm_invoice_status') }}"},
            {"to": "Last_Invoice_Amount__c", "template": "{{ steps.event.amount }}", "type": "money"},
            {"to": "Last_Invoice_Currency__c", "template": "{{ steps.event.currency }}"},
            {"to": "Last_Invoice_Date__c", "template": "{{ steps.event.invoice_date }}"},
            {"to": "Last_Invoice_Paid_Date__c",
             "template": "{{ steps.event.occurred_at | as_date if steps.event.event_type == 'paid' else none }}"}]},
        # One write per invoice event (number and status) and opportunity: the same invoice read
        # again writes nothing; the same invoice paid after issued writes once more.
        {"id": "crm", "type": "deliver", "name": "Salesforce opportunity: last invoice", "when": ON_OPPORTUNITY,
         "connection": "salesforce", "object": "Opportunity", "action": "update",
         "external_id": "{{ steps.opportunity.Id }}", "canonical_fields": CRM_FIELDS,
         "key": "crm-invoice:{{ steps.opportunity.Id }}:{{ steps.event.id }}"},
    ],
}  # fmt: skip
