"""Invoice status back to HubSpot: an invoice issued or paid in NetSuite is told to the PSA and
to the project's HubSpot deal.

The same path as invoice status back (invoice_status.py: NetSuite invoices polled → customer
and job read for their canonical ids → canonical invoice_event@1 → a Kantata milestone in the
project's workspace, completed when paid), then the project's HubSpot deal (lead to project
from HubSpot makes the deal id the canonical project id, so the job's externalId is that id)
read by its id → its last-invoice properties updated (number, status, amount, currency,
invoice date, date paid). A project whose id is not a deal id (HubSpot ids are numbers:
`PRJ-…` and Salesforce ids are not), or names a deal that does not exist, gets no CRM write;
neither is an error.

The ERP owns every invoice_event field (docs/PS_MODEL.md): the deal write says which canonical
field each property carries (`canonical_fields`), so a changed ownership rule holds a property
back as a conflict instead of writing it."""

import copy

from integrations.gallery.flows import invoice_status

# The steps up to the CRM write are invoice status back's own (read, never changed here).
SHARED_STEPS = ("customer", "job", "event", "valid", "workspace", "milestone", "psa")
# A project id that can be a deal's: HubSpot object ids are numbers.
IS_DEAL_ID = "steps.event.project_id and steps.event.project_id is string and steps.event.project_id.isdigit()"
# The same invoice is never moved back from Paid to an earlier status by a late run.
NOT_BACKWARDS = (
    "not (steps.deal.properties.last_invoice_number == steps.event.invoice_number"
    " and steps.deal.properties.last_invoice_status == 'Paid' and steps.event.event_type != 'paid')"
)
# A skipped look-up leaves no `steps.deal`; a deal that does not exist reads as nothing.
ON_DEAL = f"steps.deal is defined and steps.deal and {NOT_BACKWARDS}"
# Which canonical invoice_event field each deal property carries (ownership checks).
CRM_FIELDS = {
    "last_invoice_number": "invoice_number", "last_invoice_status": "event_type", "last_invoice_amount": "amount",
    "last_invoice_currency": "currency", "last_invoice_date": "invoice_date", "last_invoice_paid_date": "occurred_at",
}  # fmt: skip


def shared_steps() -> list[dict]:
    by_id = {s["id"]: s for s in invoice_status.DEFINITION["steps"]}
    return [copy.deepcopy(by_id[step_id]) for step_id in SHARED_STEPS]


def deal_steps() -> list[dict]:
    return [
        {"id": "deal", "type": "lookup", "name": "The project's HubSpot deal", "when": IS_DEAL_ID,
         "connection": "hubspot", "object": "deals", "by": {"id": "{{ steps.event.project_id }}"}, "required": False},
        {"id": "invoice_fields", "type": "map", "name": "Invoice event → the deal's last-invoice properties",
         "when": ON_DEAL, "fields": [
            {"to": "last_invoice_number", "template": "{{ steps.event.invoice_number }}"},
            {"to": "last_invoice_status",
             "template": "{{ steps.event.event_type | value_map('crm_invoice_status') }}"},
            {"to": "last_invoice_amount", "template": "{{ steps.event.amount }}", "type": "money"},
            {"to": "last_invoice_currency", "template": "{{ steps.event.currency }}"},
            {"to": "last_invoice_date", "template": "{{ steps.event.invoice_date }}"},
            # HubSpot clears a property set to "": an issued invoice has no paid date.
            {"to": "last_invoice_paid_date",
             "template": "{{ steps.event.occurred_at | as_date if steps.event.event_type == 'paid' else '' }}"}]},
        # One write per invoice event (number and status) and deal: the same invoice read again
        # writes nothing; the same invoice paid after issued writes once more.
        {"id": "crm", "type": "deliver", "name": "HubSpot deal: last invoice", "when": ON_DEAL,
         "connection": "hubspot", "object": "deals", "action": "update", "external_id": "{{ steps.deal.id }}",
         "canonical_fields": CRM_FIELDS, "key": "crm-invoice:{{ steps.deal.id }}:{{ steps.event.id }}"},
    ]  # fmt: skip


DEFINITION = {
    "description": "Invoices created or paid in NetSuite become invoice events, a milestone in the project's "
    "Kantata workspace (completed when paid) and the last invoice's status on the project's HubSpot deal.",
    "trigger": copy.deepcopy(invoice_status.DEFINITION["trigger"]),
    "canonical": copy.deepcopy(invoice_status.DEFINITION["canonical"]),
    "value_maps": {**invoice_status.STATUSES, **invoice_status.CURRENCIES, **invoice_status.CRM_STATUSES},
    "steps": [*shared_steps(), *deal_steps()],
}
