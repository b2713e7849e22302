"""The target side of consultant master sync, shared by each HR source (Workday:
consultant_sync.py, BambooHR: consultant_sync_bamboohr.py): from the canonical worker@1 a
source's map step made (`steps.worker`), the NetSuite employee upserted by externalId = the
canonical worker id and the Kantata user — the one the crosswalk links the worker to, updated
by its id (a changed work e-mail included), else upserted by work e-mail (found or invited) —
with the ownership mapping (`canonical_fields`) and one idempotency key per change of the
worker. A source supplies its map step and the template of its version (what makes one change
of a worker one write) and where its records' ids are linked (the flow's `canonical`
declaration: the source connection and the template of the source record's id)."""

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
                        "disabled": "status", "email_address": "email"}  # fmt: skip
# The Kantata user the crosswalk links the worker to (missing for a worker not linked yet).
LINKED_USER = "steps.psa_linked.user_id is defined"
COST_RATE_CENTS = (
    "{{ (steps.worker.cost_rate * 100) | round | int "
    "if steps.worker.cost_rate is defined and steps.worker.cost_rate is not none else none }}"
)


def employee_key(version: str) -> str:
    return f"erp-employee:{version}"


def psa_user_key(version: str) -> str:
    return f"psa-user:{version}"


def target_steps(version: str, source: str, source_id: str) -> list[dict]:
    """validate → NetSuite employee → Kantata user, each write keyed by `version` (a template
    naming the worker and what changed: a re-polled row renders the same key, writes nothing).
    `source` / `source_id`: the HR connection and the template of the worker's id there, whose
    crosswalk link leads to the worker's canonical identity and from it to its Kantata user."""
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
        # A worker already linked to a Kantata user is that user, whatever its address today: a
        # changed work e-mail must not be looked up (nobody has it yet) and invited a second time.
        # The HR id's link names the canonical identity (none before the first write), whose
        # Kantata link names the user.
        {"id": "psa_worker", "type": "map", "name": "The worker's canonical identity (crosswalk)", "fields": [
            {"to": "canonical_id", "template": source_id,
             "crosswalk": {"object": "worker", "system": source, "optional": True}}]},
        {"id": "psa_linked", "type": "map", "name": "The Kantata user linked to the worker (crosswalk)", "fields": [
            {"to": "user_id", "from": "$.canonical_id",
             "crosswalk": {"object": "worker", "to": "kantata", "optional": True}}]},
        # The PSA side reads the canonical worker (steps.worker): the current record is NetSuite's.
        {"id": "psa_user", "type": "map", "name": "Worker → Kantata user", "fields": [
            {"to": "full_name", "template": "{{ steps.worker.first_name }} {{ steps.worker.last_name }}"},
            # the linked user's address follows HR's (PUT /users/{id}); unlinked, it is the look-up key
            {"to": "email_address", "template": "{{ steps.worker.email }}"},
            # no title in the source: nothing sent (null), the Kantata headline is left as it is
            {"to": "headline", "template": "{{ steps.worker.job_title | default(none) }}"},
            {"to": "cost_rate_in_cents", "template": COST_RATE_CENTS},
            # A terminated worker's account membership is disabled: no more sign-in, staffing or time.
            {"to": "disabled", "template": "{{ steps.worker.status == 'terminated' }}"}]},
        # One of the two writes runs, under the same key: a row replayed after its worker was
        # linked finds the key of its first write in the ledger and writes nothing.
        {"id": "psa", "type": "deliver", "name": "Kantata user (linked)", "when": LINKED_USER,
         "connection": "kantata", "object": "users", "action": "update",
         "external_id": "{{ steps.psa_linked.user_id }}", "canonical_fields": PSA_CANONICAL_FIELDS,
         "key": psa_user_key(version)},
        {"id": "psa_by_email", "type": "deliver", "name": "Kantata user (by work e-mail)",
         "when": f"not ({LINKED_USER})", "connection": "kantata", "object": "users", "action": "upsert",
         "external_id_field": "email_address", "external_id": "{{ steps.worker.email }}",
         "canonical_fields": PSA_CANONICAL_FIELDS,
         "key": psa_user_key(version)},
    ]  # fmt: skip
