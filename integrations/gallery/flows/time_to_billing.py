"""Time to billing: approved Kantata time becomes NetSuite time bills, batched, exactly once.

Kantata time entries (polled with the `updated_after` watermark; one run per page) → canonical
timesheet@1 lines → policy checks (the consultant has an assignment in the crosswalk, the
project is known to the ERP, the entry is approved, at most 12 hours a day, a bill rate, the
Kantata workspace is open: not archived, its status not a finished (blue) one) → batched per
project, consultant, month and billable flag across the pages and polls (the batch step's
item_key: each entry is filed in a group once) until a group holds 500 entries or is an hour
old → one NetSuite time bill per batch, upserted by an externalId made of the batch's own
contents (a second run or a replay files nothing new, a re-executed finish or a retry after a
maintenance window never posts twice) → once that bill has succeeded, and only then, the
billed status written back to each of its Kantata entries: one external reference per entry
(POST /external_references/create_or_update takes one object), under a ledger key of its own.

The workspace is read once per page (a batch flow's lookups are cached per chunk), not once
per entry. A rejected entry is an exception of its own with the rule's message; the rest of
the page goes on."""

MAX_HOURS_PER_DAY = 12
BATCH_SIZE = 500
MAX_WAIT_SECONDS = 3600

GROUP_KEY = (
    "{{ record.project_id }}|{{ record.worker_id }}|{{ record.period_start[:7] }}"
    "|{{ 'b' if record.billable_hours else 'n' }}"
)
# Kantata project statuses by color: gray not started, light green close to starting, green
# and yellow in progress, red blocked or ended, blue finished
# (https://knowledge.kantata.com/hc/en-us/articles/115005042433). Archived workspaces are hidden
# from the workspaces index by default (https://developer.kantata.com/tag/Workspaces): a
# workspace not found fails the entry at the lookup.
CLOSED_COLOR = "blue"
# The billed status written back to each entry of a posted bill: an external reference on the
# TimeEntry (https://developer.kantata.com/kantata/specification/external-references/create-or-update-external-reference).
BILLED_MODEL = "time_bill"
# The batch's identity: its group and the first, last and count of its entries.
BILL_ID = (
    "tb:{{ record.records[0].project_id }}:{{ record.records[0].worker_id }}:{{ record.records[0].period_start[:7] }}"
    ":{{ record.records[0].id }}-{{ record.records[-1].id }}:{{ record.count }}"
)

DEFINITION = {
    "description": "Approved Kantata time is checked (assignment, hours per day, project open, rate), batched per "
    "project, consultant and month, and posted to NetSuite as time bills exactly once; each billed entry is then "
    "marked billed in Kantata; a rejected entry becomes an exception with its reason.",
    "trigger": {"type": "poll", "connection": "kantata", "object": "time_entries", "cron": "*/15 * * * *",
                "page_size": 200},
    "for_each": {"path": "$.records", "chunk_size": 500},
    "steps": [
        {"id": "line", "type": "map", "name": "Kantata time entry → canonical timesheet line", "target": "timesheet@1",
         "fields": [
            {"to": "id", "from": "$.id", "type": "string", "required": True},
            # The crosswalk names the consultant and the project: no link, no assignment known to billing.
            {"to": "worker_id", "from": "$.user_id", "required": True,
             "crosswalk": {"object": "worker", "system": "kantata"}},
            {"to": "project_id", "from": "$.workspace_id", "required": True,
             "crosswalk": {"object": "project", "system": "kantata"}},
            {"to": "period_start", "from": "$.date_performed", "type": "date", "required": True},
            {"to": "period_end", "from": "$.date_performed", "type": "date", "required": True},
            {"to": "status", "template": "{{ 'approved' if record.approved else 'submitted' }}"},
            {"to": "total_hours", "template": "{{ (record.time_in_minutes / 60) | round(2) }}", "type": "number"},
            {"to": "billable_hours",
             "template": "{{ (record.time_in_minutes / 60) | round(2) if record.billable else 0 }}", "type": "number"},
            {"to": "bill_rate", "template": "{{ record.rate_in_cents / 100 if record.rate_in_cents else none }}"},
            {"to": "currency", "from": "$.currency", "default": "USD"}]},
        # Read once per page and workspace (a chunk's lookups are cached); not found fails the entry
        # here. A test-run performs no lookup (steps.workspace is none): the rules below then hold.
        {"id": "workspace", "type": "lookup", "name": "Kantata workspace (project) of the entry",
         "connection": "kantata", "object": "workspaces", "by": {"id": "{{ input.workspace_id }}"}},
        {"id": "policy", "type": "validate", "name": "Billing policy", "schema": "timesheet@1", "rules": [
            {"when": "steps.workspace is not none and steps.workspace.archived",
             "message": "project is archived in Kantata", "field": "project_id"},
            {"when": f"steps.workspace is not none and steps.workspace.status is mapping"
                     f" and steps.workspace.status.color == '{CLOSED_COLOR}'",
             "message": "project is closed in Kantata", "field": "project_id"},
            {"when": "record.status != 'approved'", "message": "time entry is not approved yet", "field": "status"},
            {"when": f"record.total_hours > {MAX_HOURS_PER_DAY}",
             "message": f"more than {MAX_HOURS_PER_DAY} hours on one day", "field": "total_hours"},
            {"when": "record.bill_rate is none or record.bill_rate <= 0", "message": "no bill rate for this entry",
             "field": "bill_rate"}]},
        # item_key: a group gathers entries across pages and polls (each entry filed once) until
        # 500 entries or an hour, so one bill per project, consultant, month and flag.
        {"id": "by_project", "type": "batch", "name": "Per project, consultant and month", "group_key": GROUP_KEY,
         "item_key": "{{ record.id }}", "size": BATCH_SIZE, "max_wait_seconds": MAX_WAIT_SECONDS},
        # The batch as it is, plus its bill's identity: the write-back reads its entries here.
        {"id": "entries", "type": "map", "name": "Batch and its bill's identity", "merge": True, "fields": [
            {"to": "bill_id", "template": BILL_ID}]},
        {"id": "bill", "type": "map", "name": "Batch → NetSuite time bill", "fields": [
            {"to": "externalId", "template": "{{ record.bill_id }}"},
            {"to": "employee.externalId", "template": "{{ record.records[0].worker_id }}"},
            {"to": "customer.externalId", "template": "{{ record.records[0].project_id }}"},
            {"to": "tranDate", "template": "{{ record.records | map(attribute='period_end') | max }}"},
            {"to": "hours", "template": "{{ record.records | sum(attribute='total_hours') | round(2) }}"},
            {"to": "isBillable", "template": "{{ record.records[0].billable_hours > 0 }}"},
            {"to": "rate", "template": "{{ record.records[0].bill_rate }}"},
            {"to": "item.id", "constant": "210"},
            {"to": "memo", "template": "{{ record.count }} Kantata entries, {{ record.records[0].period_start[:7] }}"},
        ]},
        {"id": "post", "type": "deliver", "name": "NetSuite time bill", "connection": "netsuite", "object": "timeBill",
         "action": "upsert", "external_id_field": "externalId", "key": "{{ record.externalId }}",
         "external_id": "{{ record.externalId }}"},
        # Once the bill has succeeded (after), one write per entry of the batch (each), keyed
        # by the entry: requested in bulk, never before the bill, never twice.
        {"id": "billed", "type": "deliver", "name": "Billed status → each Kantata time entry",
         "connection": "kantata", "object": "external_references", "action": "upsert", "after": "post",
         "each": "{{ steps.entries.records }}", "key": "tb-billed:{{ item.id }}",
         "external_id_field": "service_model_ref", "external_id": "{{ steps.entries.bill_id }}#{{ item.id }}",
         "payload": {"subject_type": "TimeEntry", "subject_id": "{{ item.id }}", "service_model": BILLED_MODEL,
                     "service_model_ref": "{{ steps.entries.bill_id }}#{{ item.id }}", "status": "successful",
                     "external_status": "billed",
                     "external_message": "billed on NetSuite time bill {{ steps.entries.bill_id }}"}},
    ],
}  # fmt: skip
