"""Consultant master sync from BambooHR, test-run (nothing written): what one changed employee
becomes in NetSuite and Kantata, which rate counts as the cost rate, and what makes a new write."""

import pytest

from integrations.flows import engine_api
from integrations.gallery.catalog import BY_KEY

ROW = {"id": "101", "employeeNumber": " 21001 ", "firstName": "Priya", "lastName": "Raman", "preferredName": "Pri",
       "workEmail": "Priya.Raman@firm.example", "jobTitle": "Consultant", "location": "London",
       "hireDate": "2024-02-01", "terminationDate": None, "status": "Active",
       "lastChanged": "2026-01-05T09:00:00+00:00",
       "compensation": {"startDate": "2026-02-01", "rate": "152.50 GBP", "amount": "152.50", "currency": "GBP",
                        "type": "Hourly", "paidPer": "Hour"}}  # fmt: skip


def writes(record: dict, linked: str | None = None) -> dict:
    """The writes of one employee; `linked`: the Kantata user the crosswalk links the worker to."""
    identity = {("bamboohr", record["id"]): "c-101"} if linked else {}
    links = {("c-101", "kantata"): linked}
    effects = engine_api.dry_run_effects(crosswalk=lambda o, s, e: identity.get((s, e)),
                                         linked_id=lambda o, c, s: links.get((c, s)))  # fmt: skip
    definition = BY_KEY["consultant-master-sync-bamboohr"].definition
    outcome = engine_api.run(engine_api.compile_flow(definition), record, effects)
    assert outcome.status == "completed", outcome
    return {d.connection: d for d in effects.deliveries}


def test_an_employee_becomes_the_netsuite_employee_and_kantata_user_the_workday_flow_writes():
    out = writes(ROW)
    erp, psa = out["netsuite"], out["kantata"]
    assert (erp.object, erp.action, erp.external_id_field, erp.external_id) == (
        "employee", "upsert", "externalId", "W-21001")  # fmt: skip
    assert erp.payload == {"firstName": "Priya", "lastName": "Raman", "email": "priya.raman@firm.example",
                           "title": "Consultant", "entityId": "21001", "hireDate": "2024-02-01",
                           "subsidiary": {"id": "2"}, "isJobResource": True, "laborCost": 152.5}  # fmt: skip
    assert (psa.object, psa.external_id_field, psa.external_id) == (
        "users",
        "email_address",
        "priya.raman@firm.example",
    )
    assert psa.payload == {"full_name": "Priya Raman", "email_address": "priya.raman@firm.example",
                           "headline": "Consultant", "cost_rate_in_cents": 15250, "disabled": False}  # fmt: skip
    # the same targets, ownership mapping and key shape as the Workday flow
    workday = {s["id"]: s for s in BY_KEY["consultant-master-sync"].definition["steps"]}
    for step in BY_KEY["consultant-master-sync-bamboohr"].definition["steps"][1:]:
        if step["id"] == "psa_worker":  # each source's own id leads to the canonical identity
            assert step["fields"][0]["crosswalk"]["system"] == "bamboohr"
            continue
        assert {k: v for k, v in step.items() if k != "key"} == {k: v for k, v in workday[step["id"]].items()
                                                                 if k != "key"}  # fmt: skip
    assert erp.key.startswith("erp-employee:W-21001:") and psa.key.startswith("psa-user:W-21001:")


def test_an_inactive_employee_is_deactivated_in_both():
    out = writes({**ROW, "status": "Inactive", "terminationDate": "2026-03-31"})
    assert out["netsuite"].payload["isJobResource"] is False and out["kantata"].payload["disabled"] is True


def test_each_change_and_each_effective_date_is_one_write_and_a_resent_row_the_same_one():
    first = writes(ROW)["netsuite"].key
    assert writes(dict(ROW))["netsuite"].key == first
    later_rate = {**ROW, "compensation": {**ROW["compensation"], "startDate": "2026-07-01"}}
    changed = {**ROW, "lastChanged": "2026-02-01T10:00:00+00:00"}
    assert len({first, writes(later_rate)["netsuite"].key, writes(changed)["netsuite"].key}) == 3
    assert writes(later_rate)["netsuite"].key.endswith(":2026-07-01")


@pytest.mark.parametrize(
    "compensation",
    [None, {"startDate": "2026-01-01", "rate": "90000.00 USD", "amount": "90000.00", "currency": "USD",
            "type": "Salary", "paidPer": "Year"}],
)  # fmt: skip
def test_without_an_hourly_rate_the_cost_rate_is_left_alone(compensation):
    out = writes({**ROW, "compensation": compensation})
    assert out["netsuite"].payload["laborCost"] is None and out["kantata"].payload["cost_rate_in_cents"] is None


def test_an_employee_without_an_employee_number_fails_naming_the_field():
    effects = engine_api.dry_run_effects(crosswalk=lambda o, s, e: None)
    definition = BY_KEY["consultant-master-sync-bamboohr"].definition
    outcome = engine_api.run(engine_api.compile_flow(definition), {**ROW, "employeeNumber": ""}, effects)
    assert outcome.status == "failed" and outcome.error.field == "id" and "employeeNumber" in outcome.error.message
    assert effects.deliveries == []


def test_an_employee_linked_to_a_kantata_user_updates_that_user_with_its_new_address():
    """BambooHR gets the Workday flow's linked write from the shared builder: the user the
    crosswalk links is updated by its id, the changed work e-mail in the payload, never looked up."""
    unlinked = writes({**ROW, "workEmail": "P.Raman@firm.example"})["kantata"]
    psa = writes({**ROW, "workEmail": "P.Raman@firm.example"}, linked="20301")["kantata"]
    assert (psa.object, psa.action, psa.external_id) == ("users", "update", "20301")
    assert psa.payload == {**unlinked.payload, "email_address": "p.raman@firm.example"}
    assert psa.key == unlinked.key  # one change of the worker is one write, whichever way it goes
