"""Consultant master sync: a worker hired or changed in Workday becomes (or updates) the
NetSuite employee and the Kantata user; a terminated worker is deactivated in both.

Workday's worker-sync report (RaaS, polled with the `Updated_From` watermark) → canonical
worker@1 → NetSuite employee upserted by externalId = the canonical worker id (`W-` + the
Workday Employee_ID, the id the firm's NetSuite employees carry) → Kantata user upserted by
work e-mail: the account member with that address gets a changed name or headline on its
profile and the cost rate on its account membership, a new address is invited to the account
(the invitation's pending user is the PSA user), a terminated worker's membership is disabled
and a rehired one's enabled again. The id Kantata returns (the user's)
is linked to the worker in the crosswalk. HR owns name, status and cost centre. A cost rate
is written only when the report carries one (`Cost_Rate`), with its effective date in the
idempotency keys, so each effective-dated change is one write to each system."""

OFFICE_SUBSIDIARY = {
    "office_subsidiary": {
        "London": "2", "Berlin": "2", "Paris": "2", "Sydney": "3", "Singapore": "3",
        "San Francisco": "1", "Chicago": "1", "Toronto": "1",
    }
}  # fmt: skip

WORKER_STATUS = {"worker_status": {"Active": "active", "On Leave": "leave", "Terminated": "terminated",
                                   "Pre-Hire": "pre_hire"}}  # fmt: skip
# NetSuite employee field → the canonical worker field it carries (HR owns name, status, cost rate).
CANONICAL_FIELDS = {"firstName": "first_name", "lastName": "last_name", "email": "email", "title": "job_title",
                    "hireDate": "hire_date", "isJobResource": "status", "laborCost": "cost_rate",
                    "entityId": "employee_number", "subsidiary": "region"}  # fmt: skip
# One write per change of the worker (and per effective date of a cost rate).
VERSION = "{{ steps.worker.id }}:{{ input.Last_Updated }}:{{ input.Cost_Rate_Effective | default('-') }}"
EMPLOYEE_KEY = f"erp-employee:{VERSION}"
PSA_USER_KEY = f"psa-user:{VERSION}"
# Kantata user field → the canonical worker field it carries (integrations/connectors/kantata.py:
# name and headline are the user's profile, the cost rate its membership's, `disabled` true /
# false disables / enables the membership).
PSA_CANONICAL_FIELDS = {"full_name": "last_name", "headline": "job_title", "cost_rate_in_cents": "cost_rate",
                        "disabled": "status"}  # fmt: skip
COST_RATE_CENTS = (
    "{{ (steps.worker.cost_rate * 100) | round | int "
    "if steps.worker.cost_rate is defined and steps.worker.cost_rate is not none else none }}"
)

DEFINITION = {
    "description": "Workers hired or changed in Workday become NetSuite employees and Kantata users (invited to the "
    "account, linked in the crosswalk); terminated workers are deactivated in both; cost-rate changes are written per "
    "effective date.",
    "trigger": {"type": "poll", "connection": "workday", "object": "worker_report", "cron": "*/30 * * * *",
                "page_size": 200},
    "canonical": {"object": "worker", "source": "workday", "id": "$.Employee_ID"},
    "value_maps": {**OFFICE_SUBSIDIARY, **WORKER_STATUS},
    "steps": [
        {"id": "worker", "type": "map", "name": "Workday report row → canonical worker", "target": "worker@1",
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
            {"to": "cost_currency", "from": "$.Cost_Rate_Currency"}]},
        {"id": "valid", "type": "validate", "name": "A complete worker", "schema": "worker@1"},
        {"id": "employee", "type": "map", "name": "Worker → NetSuite employee", "fields": [
            {"to": "firstName", "from": "$.first_name"},
            {"to": "lastName", "from": "$.last_name"},
            {"to": "email", "from": "$.email"},
            {"to": "title", "from": "$.job_title"},
            {"to": "entityId", "from": "$.employee_number"},
            {"to": "hireDate", "from": "$.hire_date"},
            {"to": "subsidiary.id", "from": "$.home_office", "value_map": "office_subsidiary", "default": "1"},
            # A terminated worker stays in NetSuite for history but can no longer be staffed or log time.
            {"to": "isJobResource", "template": "{{ record.status != 'terminated' }}"},
            {"to": "laborCost", "from": "$.cost_rate"}]},
        {"id": "erp", "type": "deliver", "name": "NetSuite employee", "connection": "netsuite", "object": "employee",
         "action": "upsert", "external_id_field": "externalId", "external_id": "{{ steps.worker.id }}",
         "canonical_fields": CANONICAL_FIELDS,
         "key": EMPLOYEE_KEY},
        # The PSA side reads the canonical worker (steps.worker): the current record is NetSuite's.
        {"id": "psa_user", "type": "map", "name": "Worker → Kantata user", "fields": [
            {"to": "full_name", "template": "{{ steps.worker.first_name }} {{ steps.worker.last_name }}"},
            # no title in the report: nothing sent (null), the Kantata headline is left as it is
            {"to": "headline", "template": "{{ steps.worker.job_title | default(none) }}"},
            {"to": "cost_rate_in_cents", "template": COST_RATE_CENTS},
            # A terminated worker's account membership is disabled: no more sign-in, staffing or time.
            {"to": "disabled", "template": "{{ steps.worker.status == 'terminated' }}"}]},
        {"id": "psa", "type": "deliver", "name": "Kantata user", "connection": "kantata", "object": "users",
         "action": "upsert", "external_id_field": "email_address", "external_id": "{{ steps.worker.email }}",
         "canonical_fields": PSA_CANONICAL_FIELDS,
         "key": PSA_USER_KEY},
    ],
}  # fmt: skip
