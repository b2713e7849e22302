"""Routing: which later steps run, in first-match and all-matches modes."""

import pytest

from integrations.engine import compile_flow, run

from .conftest import FakeEffects, flow


def tag(step_id):
    return {"id": step_id, "type": "map", "merge": True, "fields": [{"to": f"went_{step_id}", "constant": True}]}


def routed(record, mode="first-match", otherwise="na", when=None):
    route = {
        "id": "by_region",
        "type": "route",
        "mode": mode,
        "otherwise": otherwise,
        "rules": [
            {"name": "emea", "when": "record.region == 'EMEA'", "to": "emea"},
            {"name": "big", "when": "record.amount > 1000", "to": ["big", "audit"]},
        ],
    }
    if when:
        route["when"] = when
    steps = [route, tag("emea"), tag("big"), tag("na"), tag("audit"), tag("always")]
    return run(compile_flow(flow(*steps)), record, FakeEffects())


def statuses(outcome):
    return {s.step_id: s.status for s in outcome.steps}


def test_first_match_selects_one_rule():
    outcome = routed({"region": "EMEA", "amount": 5000})
    assert outcome.steps[0].output == {"matched": ["emea"], "selected": ["emea"]}
    assert statuses(outcome) == {
        "by_region": "succeeded",
        "emea": "succeeded",
        "big": "skipped",
        "na": "skipped",
        "audit": "skipped",
        "always": "succeeded",
    }
    assert outcome.steps[2].detail == {"reason": "not selected by route by_region"}
    assert outcome.state["routes"] == {"by_region": ["emea"]}


def test_all_matches_selects_every_matching_rule():
    outcome = routed({"region": "EMEA", "amount": 5000}, mode="all-matches")
    assert outcome.steps[0].output["matched"] == ["emea", "big"]
    assert outcome.record == {
        "region": "EMEA",
        "amount": 5000,
        "went_emea": True,
        "went_big": True,
        "went_audit": True,
        "went_always": True,
    }


def test_otherwise_when_nothing_matches():
    outcome = routed({"region": "APAC", "amount": 5})
    assert outcome.steps[0].output == {"matched": ["otherwise"], "selected": ["na"]}
    assert statuses(outcome)["na"] == "succeeded"


def test_no_otherwise_selects_nothing():
    outcome = routed({"region": "APAC", "amount": 5}, otherwise=None)
    assert outcome.steps[0].output == {"matched": [], "selected": []}
    # without `otherwise`, "na" is no target of the route, so it runs like any ungated step
    assert [s.step_id for s in outcome.steps if s.status == "succeeded"] == ["by_region", "na", "always"]


def test_a_skipped_route_selects_none_of_its_targets():
    outcome = routed({"region": "EMEA", "amount": 5000}, when="record.amount < 0")
    assert statuses(outcome) == {
        "by_region": "skipped",
        "emea": "skipped",
        "big": "skipped",
        "na": "skipped",
        "audit": "skipped",
        "always": "succeeded",
    }


def test_rule_error_names_the_rule():
    outcome = routed({"amount": 5000})
    assert outcome.status == "failed"
    assert outcome.error.kind == "rule"
    assert outcome.error.field == "rules[0].when"
    assert "rule 'emea'" in outcome.error.message and "no attribute 'region'" in outcome.error.message


@pytest.mark.parametrize("amount", [10, 5000])
def test_route_is_deterministic(amount):
    assert routed({"region": "NA", "amount": amount}).state == routed({"region": "NA", "amount": amount}).state
