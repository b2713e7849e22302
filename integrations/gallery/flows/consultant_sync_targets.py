"""The target side of consultant master sync, shared by each HR source (Workday:
consultant_sync.py, BambooHR: consultant_sync_bamboohr.py): from the canonical worker@1 a
source's map step made (`steps.worker`), the NetSuite employee upserted by externalId = the
canonical worker id and the Kantata user upserted by work e-mail, with the ownership mapping
(`canonical_fields`) and one idempotency key per change of the worker. A source supplies its
map step and the template of its version (what makes one change of a worker one write)."""

OFFICE_SUBSIDIARY = {
    "office_subsidiary": {
        "London": "2", "Berlin": "2", "Paris": "2", "Sydney": "3", "Singapore": "3",
        "San Francisco": "1", "Chicago": "1", "Toronto": "1",
    }
}  # fmt: skip
# NetSuite employee field → the canonical worker field it carries (HR owns name, status, cost rate).
CANONICAL_FIELDS = {"firstName": "first_name", "lastName": "last_name", "email": "email", "title": "job_title",
                    "hireDate": "hire_date", "isJobResource": "status", "laborCost": "cost_rate",
                    "entityId": "employee_number", "subsidiary": "region"}  # fmt: skip
# Kantata user field → the canonical worker field it carries (integrations/connectors/kantata.py:
# name and headline are the user's profile, the cost rate its membership's, `disabled` true /
# false disables / enables the membership).
PSA_CANONICAL_FIELDS = {"full_name": "last_name", "headline": "job_title", "cost_rate_in_cents": "cost_rate",
                        "disabled": "status"}  # fmt: skip
COST_RATE_CENTS = (
    "{{ (steps.worker.cost_rate * 100) | round | int "
    "if steps.worker.cost_rate is defined and steps.worker.cost_rate is not none else none }}"
)


def employee_key(version: str) -> str:
    return f"erp-employee:{version}"


def psa_user_key(version: str) -> str:
    return f"psa-user:{version}"


def target_steps(version: str) -> list[dict]:
    """validate → NetSuite employee → Kantata user, each write keyed by `version` (a template
    naming the worker and what changed: a re-polled row renders the same key, writes nothing)."""
    return [
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
         "key": employee_key(version)},
        # The PSA side reads the canonical worker (steps.worker): the current record is NetSuite's.
        {"id": "psa_user", "type": "map", "name": "Worker → Kantata user", "fields": [
            {"to": "full_name", "template": "{{ steps.worker.first_name }} {{ steps.worker.last_name }}"},
            # no title in the source: nothing sent (null), the Kantata headline is left as it is
            {"to": "headline", "template": "{{ steps.worker.job_title | default(none) }}"},
            {"to": "cost_rate_in_cents", "template": COST_RATE_CENTS},
            # A terminated worker's account membership is disabled: no more sign-in, staffing or time.
            {"to": "disabled", "template": "{{ steps.worker.status == 'terminated' }}"}]},
        {"id": "psa", "type": "deliver", "name": "Kantata user", "connection": "kantata", "object": "users",
         "action": "upsert", "external_id_field": "email_address", "external_id": "{{ steps.worker.email }}",
         "canonical_fields": PSA_CANONICAL_FIELDS,
         "key": psa_user_key(version)},
    ]  # fmt: skip
