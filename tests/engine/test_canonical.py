"""Canonical object schemas and their cached validators."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from integrations.canonical.registry import (
    UnknownCanonicalObject,
    get_schema,
    list_objects,
    list_versions,
    parse_ref,
    validator,
    validator_for,
)

OBJECTS = [
    "assignment",
    "client",
    "expense",
    "invoice_event",
    "project",
    "rate_card",
    "revenue_milestone",
    "timesheet",
    "worker",
]


def test_every_canonical_object_has_a_version_1():
    assert list_objects() == OBJECTS
    for name in OBJECTS:
        assert list_versions(name) == [1]


@pytest.mark.parametrize("name", OBJECTS)
def test_schemas_are_valid_draft_2020_12(name):
    schema = get_schema(name, 1)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] and schema["additionalProperties"] is False


def test_validators_are_compiled_once():
    assert validator("project", 1) is validator_for("project@1")


def test_get_schema_returns_a_copy():
    get_schema("client", 1)["required"].append("x")
    assert "x" not in get_schema("client", 1)["required"]


@pytest.mark.parametrize("ref", ["project@9", "nothing@1", "Project@1", "project"])
def test_unknown_references(ref):
    with pytest.raises(UnknownCanonicalObject):
        validator_for(ref)


def test_parse_ref():
    assert parse_ref("rate_card@1") == ("rate_card", 1)


SAMPLES = {
    "timesheet": {
        "worker_id": "W1",
        "project_id": "P1",
        "period_start": "2026-03-02",
        "period_end": "2026-03-08",
        "status": "approved",
        "total_hours": 40,
        "entries": [{"date": "2026-03-02", "hours": 8}],
    },
    "invoice_event": {
        "invoice_number": "INV-1",
        "client_id": "C1",
        "event_type": "paid",
        "occurred_at": "2026-03-02T10:00:00Z",
        "currency": "EUR",
        "amount": -10.5,
    },
    "worker": {
        "first_name": "Dana",
        "last_name": "Lee",
        "email": "dana@example.com",
        "worker_type": "employee",
        "status": "active",
    },
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_realistic_records_are_valid(name):
    assert validator(name, 1).violations(SAMPLES[name]) == []


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["2026-03-02", "2026-02-30", "2026-03-02T10:00:00Z", "USD", "usd", "a@b.co", "approved"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(SAMPLES)),
    changes=st.dictionaries(
        st.sampled_from(
            [
                "status",
                "total_hours",
                "period_start",
                "currency",
                "amount",
                "email",
                "occurred_at",
                "extra",
                "entries",
                "worker_id",
            ]
        ),
        json_values,
        max_size=3,
    ),
)
def test_fast_and_full_validators_agree(name, changes):
    """The fastjsonschema fast path must accept exactly what jsonschema (2020-12) accepts."""
    record = {**SAMPLES[name], **changes}
    checker = validator(name, 1)
    assert checker.is_valid(record) == checker._full.is_valid(record)
