"""The validate step: canonical schema plus rule checks, all violations reported together."""

from integrations.engine import compile_flow, run

from .conftest import FakeEffects, flow

PROJECT = {
    "id": "P-1",
    "name": "Rollout",
    "client_id": "C-1",
    "status": "won",
    "billing_type": "fixed_fee",
    "start_date": "2026-02-01",
    "end_date": "2026-12-31",
    "currency": "USD",
    "contract_value": 120000.0,
}
RULES = [
    {
        "when": "record.end_date is defined and record.end_date < record.start_date",
        "message": "ends before it starts",
        "field": "end_date",
    },
    {"when": "record.contract_value > 1000000", "message": "needs a finance review"},
]


def validated(record, **step):
    definition = flow({"id": "check", "type": "validate", **step})
    return run(compile_flow(definition), record, FakeEffects())


def test_valid_record_passes():
    outcome = validated(PROJECT, schema="project@1", rules=RULES)
    assert outcome.status == "completed"
    assert outcome.steps[0].output == {"valid": True, "schema": "project@1", "rules_checked": 2}


def test_schema_violations_are_all_listed_with_fields():
    bad = {**PROJECT, "currency": "usd", "start_date": "2026-02-30", "surprise": 1}
    del bad["name"]
    outcome = validated(bad, schema="project@1")
    assert outcome.status == "failed"
    error = outcome.error
    assert error.kind == "validation" and error.classification == "permanent"
    fields = [d["field"] for d in error.details]
    assert fields == ["", "", "currency", "start_date"]
    assert "'name' is a required property" in error.message
    assert "'2026-02-30' is not a 'date'" in error.message
    assert outcome.steps[0].detail["details"] == list(error.details)


def test_rule_checks_report_their_message_and_field():
    outcome = validated({**PROJECT, "end_date": "2025-01-01", "contract_value": 2000000}, rules=RULES)
    assert outcome.error.details == (
        {"field": "end_date", "message": "ends before it starts"},
        {"field": "", "message": "needs a finance review"},
    )
    assert outcome.error.field == "end_date"


def test_rule_that_cannot_be_evaluated_is_a_violation():
    outcome = validated({"x": 1}, rules=[{"when": "record.amount > 5", "message": "too big", "field": "amount"}])
    assert outcome.error.kind == "validation"
    assert outcome.error.field == "amount"
    assert outcome.error.details == (
        {"field": "amount", "message": "too big (could not be checked: 'dict object' has no attribute 'amount')"},
    )


def test_nulls_are_accepted_for_optional_canonical_fields():
    assert validated({**PROJECT, "description": None, "region": None}, schema="project@1").status == "completed"
