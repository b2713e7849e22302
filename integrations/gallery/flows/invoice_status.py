"""Invoice status back: an invoice issued or paid in NetSuite is told to the PSA.

NetSuite invoices (SuiteQL poll on lastmodifieddate) → the customer and job read for their
canonical ids (externalIds) → canonical invoice_event@1 (issued / paid from the status) →
the project's Kantata workspace found by its external reference (the canonical project id the
lead-to-project flow gave it) → a milestone in that workspace per invoice, completed when paid.
An invoice of a project that has no Kantata workspace of ours ends after the canonical event."""

STATUSES = {"invoice_status": {"A": "issued", "B": "paid", "Open": "issued", "Paid In Full": "paid"}}
CURRENCIES = {"netsuite_currency": {"1": "USD", "2": "EUR", "3": "GBP"}}

DEFINITION = {
    "description": "Invoices created or paid in NetSuite become invoice events and a milestone in the project's "
    "Kantata workspace (completed when paid).",
    "trigger": {"type": "poll", "connection": "netsuite", "object": "invoice", "cron": "*/30 * * * *",
                "page_size": 200},
    "canonical": {"object": "invoice_event", "source": "netsuite", "id": "$.id"},
    "value_maps": {**STATUSES, **CURRENCIES},
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
            {"to": "project_id", "template": "{{ steps.job.externalId if steps.job else none }}"},
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
        {"id": "milestone", "type": "map", "name": "Invoice event → Kantata milestone", "when": "steps.workspace",
         "fields": [
            {"to": "workspace_id", "template": "{{ steps.workspace.id }}"},
            {"to": "title", "template": "Invoice {{ record.invoice_number }}: {{ record.event_type }}"},
            {"to": "story_type", "constant": "milestone"},
            {"to": "state", "template": "{{ 'completed' if record.event_type == 'paid' else 'started' }}"},
            {"to": "due_date", "from": "$.due_date"}]},
        {"id": "psa", "type": "deliver", "name": "Kantata milestone", "when": "steps.workspace",
         "connection": "kantata", "object": "stories", "action": "upsert", "external_id_field": "task",
         "external_id": "invoice:{{ steps.event.invoice_number }}", "key": "psa-invoice:{{ steps.event.id }}"},
    ],
}  # fmt: skip
