"""Consultant master sync: a worker hired or changed in Workday becomes (or updates) the
NetSuite employee and the Kantata user; a terminated worker is deactivated in both.

Workday's worker-sync report (RaaS, polled with the `Updated_From` watermark) → canonical
worker@1 → NetSuite employee upserted by externalId = the canonical worker id (`W-` + the
Workday Employee_ID, the id the firm's NetSuite employees carry) → Kantata user upserted by
work e-mail: the account member with that address gets a changed name or headline on its
profile and the cost rate on its account membership, a new address is invited to the account
(the invitation's pending user is the PSA user), a terminated worker's membership is disabled
and a rehired one's enabled again. The id Kantata returns (the user's) is linked to the
worker in the crosswalk; from then on the write goes to that user by its id, so a changed
work e-mail changes the user's address instead of inviting a second user. HR owns name,
status and cost centre. A cost rate is written only when the report carries one
(`Cost_Rate`), with its effective date in the idempotency keys, so each effective-dated
change is one write to each system."""

from integrations.gallery.flows.consultant_sync_targets import (
    CANONICAL_FIELDS,
    COST_RATE_CENTS,
    OFFICE_SUBSIDIARY,
    PSA_CANONICAL_FIELDS,
    employee_key,
    psa_user_key,
    target_steps,
)

__all__ = ["CANONICAL_FIELDS", "COST_RATE_CENTS", "DEFINITION", "PSA_CANONICAL_FIELDS"]

WORKER_STATUS = {"worker_status": {"Active": "active", "On Leave": "leave", "Terminated": "terminated",
                                   "Pre-Hire": "pre_hire"}}  # fmt: skip
# One write per change of the worker (and per effective date of a cost rate).
VERSION = "{{ steps.worker.id }}:{{ input.Last_Updated }}:{{ input.Cost_Rate_Effective | default('-') }}"
EMPLOYEE_KEY = employee_key(VERSION)
PSA_USER_KEY = psa_user_key(VERSION)

WORKER_FROM_WORKDAY = {
    "id": "worker", "type": "map", "name": "Workday report row → canonical worker", "target": "worker@1",
    "fields": [
        {"to": "id", "template": "W-{{ record.Employee_ID }}", "required": True},
        {"to": "employee_number", "from": "$.Employee_ID", "type": "string", "required": True},
        {"to": "first_name", "from": "$.Legal_Name", "required": True,
         "template": "{{ (value | trim).split(' ')[:-1] | join(' ') or value }}"},
        {"to": "last_name", "from": "$.Legal_Name", "required": True,
         "template": "{{ (value | trim).split(' ') | last }}"},
        {"to": "email", "from": "$['Email_-_Work']", "required": True, "template": "{{ value | trim | lower }}"},
        {"to": "worker_type", "constant": "employee"},
        {"to": "status", "from": "$.Worker_Status", "value_map": "worker_status", "required": True},
        {"to": "job_title", "from": "$.Business_Title"},
        {"to": "home_office", "from": "$.Location"},
        {"to": "hire_date", "from": "$.Hire_Date", "type": "date"},
        {"to": "cost_rate", "from": "$.Cost_Rate", "type": "money"},
        {"to": "cost_currency", "from": "$.Cost_Rate_Currency"}]}  # fmt: skip

DEFINITION = {
    "description": "Workers hired or changed in Workday become NetSuite employees and Kantata users (invited to the "
    "account, linked in the crosswalk); terminated workers are deactivated in both; cost-rate changes are written per "
    "effective date.",
    "trigger": {"type": "poll", "connection": "workday", "object": "worker_report", "cron": "*/30 * * * *",
                "page_size": 200},
    "canonical": {"object": "worker", "source": "workday", "id": "$.Employee_ID"},
    "value_maps": {**OFFICE_SUBSIDIARY, **WORKER_STATUS},
    "steps": [WORKER_FROM_WORKDAY, *target_steps(VERSION, "workday", "{{ input.Employee_ID }}")],
}  # fmt: skip
