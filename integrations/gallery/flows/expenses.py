"""Expenses to ERP: billable Kantata expenses are re-billed through NetSuite, after policy checks.

Kantata expenses (polled with the `updated_after` watermark) → canonical expense@1 (category
through a value map: an unmapped category is an exception) → policy (a receipt above the
threshold; the consultant and project known to the crosswalk) → the project's NetSuite job read
for its customer → a NetSuite invoice with one Travel Expenses line, upserted by externalId =
the expense id. Non-billable expenses stop after the checks: they are reimbursed, not billed."""

RECEIPT_THRESHOLD = 500

CATEGORIES = {"expense_categories": {"Travel": "travel", "Airfare": "travel", "Lodging": "lodging", "Hotel": "lodging",
                                     "Meals": "meals", "Mileage": "mileage", "Software": "software"}}  # fmt: skip
# One Travel Expenses line (NetSuite item 220 in the sandbox account), the item sublist as REST writes it.
INVOICE_LINES = (
    "{{ {'items': [{'item': {'id': '220'}, 'amount': record.amount,"
    " 'description': record.description or record.category}]} }}"
)
NO_RECEIPT = f"record.amount > {RECEIPT_THRESHOLD} and not (record.receipt_url is defined and record.receipt_url)"

DEFINITION = {
    "description": f"Kantata expenses are checked (category mapped, a receipt above {RECEIPT_THRESHOLD}) and billable "
    "ones are re-billed to the client as a NetSuite invoice line, once per expense.",
    "trigger": {"type": "poll", "connection": "kantata", "object": "expenses", "cron": "0 * * * *", "page_size": 200},
    "canonical": {"object": "expense", "source": "kantata", "id": "$.id"},
    "value_maps": CATEGORIES,
    "steps": [
        {"id": "expense", "type": "map", "name": "Kantata expense → canonical expense", "target": "expense@1",
         "fields": [
            {"to": "id", "from": "$.id", "type": "string", "required": True},
            {"to": "worker_id", "from": "$.user_id", "required": True,
             "crosswalk": {"object": "worker", "system": "kantata"}},
            {"to": "project_id", "from": "$.workspace_id", "required": True,
             "crosswalk": {"object": "project", "system": "kantata"}},
            {"to": "incurred_on", "from": "$.date", "type": "date", "required": True},
            {"to": "category", "from": "$.category", "value_map": "expense_categories", "required": True},
            {"to": "description", "from": "$.notes"},
            {"to": "amount", "template": "{{ record.amount_in_cents / 100 }}", "type": "money", "required": True},
            {"to": "currency", "from": "$.currency", "default": "USD"},
            {"to": "billable", "from": "$.billable", "type": "boolean", "default": False},
            {"to": "receipt_url", "from": "$.receipt_url"},
            {"to": "status", "constant": "approved"}]},
        {"id": "policy", "type": "validate", "name": "Expense policy", "schema": "expense@1", "rules": [
            {"when": NO_RECEIPT,
             "message": f"a receipt is required above {RECEIPT_THRESHOLD}", "field": "receipt_url"}]},
        {"id": "job", "type": "lookup", "name": "The project's NetSuite job (its customer)", "when": "record.billable",
         "connection": "netsuite", "object": "job", "by": {"externalId": "{{ record.project_id }}"}},
        {"id": "rebill", "type": "map", "name": "Expense → NetSuite invoice line", "when": "record.billable",
         "fields": [
            {"to": "entity.id", "template": "{{ steps.job.parent.id }}", "required": True},
            {"to": "job.externalId", "from": "$.project_id"},
            {"to": "tranDate", "from": "$.incurred_on"},
            {"to": "memo", "template": "{{ record.category | capitalize }} expense {{ record.id }}"},
            {"to": "item", "template": INVOICE_LINES}]},
        {"id": "erp", "type": "deliver", "name": "NetSuite invoice", "when": "steps.expense.billable",
         "connection": "netsuite", "object": "invoice", "action": "upsert", "external_id_field": "externalId",
         "external_id": "expense:{{ steps.expense.id }}", "key": "erp-expense:{{ steps.expense.id }}"},
    ],
}  # fmt: skip
