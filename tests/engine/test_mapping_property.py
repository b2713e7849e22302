"""Property: any JSON input gives either a mapped record or a clear mapping/validation error.

Never an unhandled exception, never an "unexpected" error, and the outcome is always
storable as JSON."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.engine import compile_flow, run

from .conftest import FakeEffects

FIELDS = [
    {"to": "id", "from": "$.Id", "type": "string", "required": True},
    {"to": "name", "from": "$.Name", "template": "{{ value | trim | truncate(40) }}", "required": True},
    {"to": "client_id", "from": "$.Account.Id", "crosswalk": {"object": "client", "system": "salesforce"}},
    {"to": "status", "from": "$.Stage", "value_map": "stages", "default": "won"},
    {"to": "billing_type", "constant": "fixed_fee"},
    {"to": "start_date", "from": "$.CloseDate", "template": "{{ value | as_date }}", "default": "2026-01-01"},
    {"to": "currency", "from": "$.Currency", "template": "{{ value | upper }}", "default": "USD"},
    {"to": "contract_value", "from": "$.Amount", "type": "money"},
    {"to": "budget_hours", "from": "$.Lines[*].Hours", "template": "{{ value | sum }}"},
    {"to": "region", "from": "$.Account.Region", "value_map": "regions"},
    {"to": "practice", "from": "$.Lines[0].Practice", "type": "string"},
    {"to": "description", "template": "{{ record.Name | default('') }} for {{ record.Account.Name | default('?') }}"},
    {"to": "code", "from": "$.Code", "template": "{{ value | slug | upper }}"},
    {"to": "external_ids.salesforce", "from": "$.Id", "type": "string"},
]
DEFINITION = {
    "trigger": {"type": "manual"},
    "value_maps": {
        "stages": {"Closed Won": "won", "Negotiation": "pipeline"},
        "regions": {"Europe": "EMEA", "US": "NA"},
    },
    "steps": [
        {"id": "project", "type": "map", "target": "project@1", "fields": FIELDS},
        {
            "id": "check",
            "type": "validate",
            "schema": "project@1",
            "rules": [
                {
                    "when": "record.contract_value is defined and record.contract_value > 5000000",
                    "message": "contract value is implausible",
                    "field": "contract_value",
                }
            ],
        },
    ],
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["2026-03-01", "2026-13-01", "Closed Won", "Europe", "eur", "1,234.50", "0.005", "{{ x }}", ""])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
GOOD = {
    "Id": "006",
    "Name": " Rollout ",
    "Account": {"Id": "001", "Region": "Europe", "Name": "Acme"},
    "Stage": "Closed Won",
    "CloseDate": "2026-03-01T00:00:00Z",
    "Currency": "eur",
    "Amount": "1,234.505",
    "Lines": [{"Hours": 10, "Practice": "Data"}, {"Hours": 5.5}],
    "Code": "acme rollout",
}
KEYS = sorted(GOOD)
accounts = st.fixed_dictionaries(
    {},
    optional={
        "Id": st.sampled_from(["001", "002"]) | json_values,
        "Region": st.sampled_from(["Europe", "US", "Mars"]) | json_values,
        "Name": json_values,
    },
)
lines = st.lists(
    st.fixed_dictionaries({}, optional={"Hours": scalars, "Practice": json_values}) | json_values, max_size=3
)
# a good opportunity with some keys replaced by other JSON, some dropped, and nested parts varied
opportunity = st.builds(
    lambda changes, drops, nested: {k: v for k, v in {**GOOD, **nested, **changes}.items() if k not in drops},
    st.dictionaries(st.sampled_from(KEYS), json_values, max_size=2),
    st.sets(st.sampled_from(KEYS), max_size=2),
    st.fixed_dictionaries({}, optional={"Account": accounts, "Lines": lines}),
)


def check(record):
    effects = FakeEffects(links={("client", "salesforce", "001"): "C-1"})
    outcome = run(compile_flow(DEFINITION), record, effects)
    json.dumps(outcome.as_dict())
    if outcome.status == "completed":
        assert outcome.error is None
        assert isinstance(outcome.record, dict) and outcome.record["billing_type"] == "fixed_fee"
        return
    assert outcome.status == "failed"
    error = outcome.error
    assert error.kind in ("mapping", "validation"), error
    assert error.classification == "permanent"
    assert not error.message.startswith("unexpected"), error.message
    assert error.step_id in ("project", "check")
    assert error.message


@settings(max_examples=250, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(opportunity)
def test_any_opportunity_shape_maps_or_fails_clearly(record):
    check(record)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_value_maps_or_fails_clearly(record):
    check(record)


def test_a_good_opportunity_maps_and_validates():
    outcome = run(compile_flow(DEFINITION), GOOD, FakeEffects(links={("client", "salesforce", "001"): "C-1"}))
    assert outcome.status == "completed", outcome.error
    assert outcome.record == {
        "id": "006",
        "name": "Rollout",
        "client_id": "C-1",
        "status": "won",
        "billing_type": "fixed_fee",
        "start_date": "2026-03-01",
        "currency": "EUR",
        "contract_value": 1234.51,
        "budget_hours": 15.5,
        "region": "EMEA",
        "practice": "Data",
        "description": " Rollout  for Acme",
        "code": "ACME-ROLLOUT",
        "external_ids": {"salesforce": "006"},
    }
