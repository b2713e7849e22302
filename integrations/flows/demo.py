"""The demo's first two flows (Salesforce opportunity → Kantata workspace, approved Kantata
time → one NetSuite time bill per entry), published over the sandbox connections by `seed`.
Idempotent: a flow that exists is left as it is.

`manage.py seed_demo` installs the six reference flows of the template gallery instead
(integrations/gallery/demo.py): these two would post the same projects and hours a second
time. They stay for the tests and benchmarks built on them."""

from integrations.connections.models import Connection
from integrations.flows.models import Flow
from integrations.flows.services import create_flow, publish

ACTOR = "system:seed_demo"

OPPORTUNITY_TO_PROJECT = {
    "description": "A won Salesforce opportunity becomes a Kantata workspace; "
    "big deals need a delivery lead's approval.",
    "trigger": {"type": "event", "connection": "salesforce", "event": "opportunity.won"},
    "steps": [
        # A change event carries only the changed fields: read the whole opportunity first.
        {"id": "opportunity", "type": "lookup", "connection": "salesforce", "object": "Opportunity",
         "by": {"id": "{{ record.Id }}"}, "into": "opportunity"},
        {"id": "project", "type": "map", "name": "Opportunity → project", "fields": [
            {"to": "title", "from": "$.opportunity.Name", "required": True},
            {"to": "creator_role", "constant": "maven"},
            {"to": "price", "from": "$.opportunity.Amount", "default": 0},
            {"to": "currency", "from": "$.opportunity.CurrencyIsoCode", "default": "USD"},
            {"to": "start_date", "from": "$.opportunity.Project_Start_Date__c"},
            {"to": "budgeted", "constant": True},
        ]},
        {"id": "big_deal", "type": "approve", "when": "record.price > 250000", "approvers": {"group": "Approver"},
         "sla_hours": 24, "on_expiry": "escalate",
         "summary": "Set up {{ record.title }} ({{ record.price }} {{ record.currency }})"},
        {"id": "workspace", "type": "deliver", "connection": "kantata", "object": "workspaces", "action": "upsert",
         "key": "opportunity:{{ input.Id }}", "external_id_field": "opportunity", "external_id": "{{ input.Id }}"},
    ],
}  # fmt: skip

APPROVED_TIME_TO_BILLS = {
    "description": "Approved Kantata time entries become NetSuite time bills, one per entry, never posted twice.",
    "trigger": {"type": "poll", "connection": "kantata", "object": "time_entries", "cron": "*/15 * * * *"},
    "steps": [
        {"id": "approved_only", "type": "route",
         "rules": [{"name": "approved", "when": "input.approved", "to": "time_bill"}], "otherwise": "not_approved"},
        {"id": "time_bill", "type": "map", "name": "Time entry → time bill", "fields": [
            {"to": "tranDate", "from": "$.date_performed", "required": True},
            # NetSuite employees carry the HR worker id (the canonical worker id) as externalId.
            {"to": "employee.externalId", "from": "$.user_id", "required": True,
             "crosswalk": {"object": "worker", "system": "kantata"}},
            {"to": "hours", "template": "{{ (input.time_in_minutes / 60) | round(2) }}"},
            {"to": "isBillable", "from": "$.billable", "default": True},
            {"to": "memo", "from": "$.notes", "default": ""},
        ]},
        {"id": "post", "type": "deliver", "when": "input.approved", "connection": "netsuite", "object": "timeBill",
         "action": "upsert", "key": "timesheet:{{ input.id }}", "external_id_field": "externalId",
         "external_id": "timesheet:{{ input.id }}"},
        {"id": "not_approved", "type": "validate",
         "rules": [{"when": "not input.approved", "message": "time entry is not approved yet", "field": "approved"}]},
    ],
}  # fmt: skip

DEMO_FLOWS = (
    ("opportunity-to-project", "Opportunity won → Kantata project", OPPORTUNITY_TO_PROJECT, ("salesforce", "kantata")),
    (
        "approved-time-to-netsuite",
        "Approved time → NetSuite time bills",
        APPROVED_TIME_TO_BILLS,
        ("kantata", "netsuite"),
    ),
)


def seed(stdout) -> None:
    for key, name, definition, needs in DEMO_FLOWS:
        if Flow.objects.filter(key=key).exists():
            stdout.write(f"  flow {key}: unchanged\n")
            continue
        missing = [n for n in needs if not Connection.objects.filter(name=n).exists()]
        if missing:
            stdout.write(f"  flow {key}: skipped (no connection {', '.join(missing)})\n")
            continue
        flow = create_flow(ACTOR, key=key, name=name, description=definition["description"], definition=definition)
        publish(flow, ACTOR, notes="demo")
        stdout.write(f"  flow {key}: created and published\n")
