"""Consultant master sync with BambooHR as the HR system: an employee hired or changed in
BambooHR becomes (or updates) the NetSuite employee and the Kantata user; a terminated one
is deactivated in both. The same target steps as the Workday flow (consultant_sync_targets.py).

BambooHR's changed employees (`worker_sync`: `GET /v1/employees/changed?since=` with the
watermark, each employee read whole with its compensation row in force) → canonical worker@1
→ NetSuite employee upserted by externalId = the canonical worker id `W-<employeeNumber>`: the
employee number is the firm's HR number (the one Workday calls Employee_ID), so both HR
sources give a consultant the same id and find the same NetSuite employee → Kantata user
upserted by work e-mail (or, once linked in the crosswalk, updated by its id, a changed work
e-mail included). Status `Inactive` is a terminated worker (NetSuite isJobResource
false, Kantata membership disabled). The cost rate is the hourly compensation row in force
(`paidPer` Hour: "152.50 USD" → 152.50, USD); a salaried row leaves the cost rate alone. Its
`startDate` is its effective date and is in the idempotency keys with the employee's
`lastChanged`, so each change, and each effective-dated rate, is one write to each system
and a re-poll writes nothing. An employee without an employee number fails validation,
naming the field, instead of getting an identity NetSuite does not know."""

from integrations.gallery.flows.consultant_sync_targets import OFFICE_SUBSIDIARY, target_steps

WORKER_STATUS = {"bamboohr_status": {"Active": "active", "Inactive": "terminated"}}
HOURLY = "record.compensation and record.compensation.paidPer == 'Hour'"
# One write per change of the employee (lastChanged moves with any field or table row) and
# per effective date of its compensation.
VERSION = (
    "{{ steps.worker.id }}:{{ input.lastChanged }}:{{ input.compensation.startDate if input.compensation else '-' }}"
)

WORKER_FROM_BAMBOOHR = {
    "id": "worker", "type": "map", "name": "BambooHR employee → canonical worker", "target": "worker@1",
    "fields": [
        # a blank employee number is no number: the record fails naming it, never becomes "W-"
        {"to": "id", "from": "$.employeeNumber", "template": "{{ 'W-' ~ value | trim if value | trim else none }}",
         "required": True},
        {"to": "employee_number", "from": "$.employeeNumber", "template": "{{ value | trim }}", "type": "string",
         "required": True},
        {"to": "first_name", "from": "$.firstName", "required": True, "template": "{{ value | trim }}"},
        {"to": "last_name", "from": "$.lastName", "required": True, "template": "{{ value | trim }}"},
        {"to": "email", "from": "$.workEmail", "required": True, "template": "{{ value | trim | lower }}"},
        {"to": "worker_type", "constant": "employee"},
        {"to": "status", "from": "$.status", "value_map": "bamboohr_status", "required": True},
        {"to": "job_title", "from": "$.jobTitle"},
        {"to": "home_office", "from": "$.location"},
        {"to": "hire_date", "from": "$.hireDate", "type": "date"},
        {"to": "termination_date", "from": "$.terminationDate", "type": "date"},
        {"to": "cost_rate", "template": "{{ record.compensation.amount if " + HOURLY + " else none }}",
         "type": "money"},
        {"to": "cost_currency",
         "template": "{{ record.compensation.currency if " + HOURLY + " else none }}"}]}  # fmt: skip

DEFINITION = {
    "description": "Employees hired or changed in BambooHR become NetSuite employees and Kantata users (invited to "
    "the account, linked in the crosswalk); terminated employees are deactivated in both; hourly cost-rate changes are "
    "written per effective date.",
    "trigger": {"type": "poll", "connection": "bamboohr", "object": "worker_sync", "cron": "*/30 * * * *",
                "page_size": 50},
    "canonical": {"object": "worker", "source": "bamboohr", "id": "$.id"},
    "value_maps": {**OFFICE_SUBSIDIARY, **WORKER_STATUS},
    "steps": [WORKER_FROM_BAMBOOHR, *target_steps(VERSION, "bamboohr", "{{ input.id }}")],
}  # fmt: skip
