"""Details of approval requests, delivery keys, lookups and jumps that the runtime relies on."""

import json

from integrations.engine import EngineError, compile_flow, run
from integrations.engine.errors import DefinitionInvalid

from .conftest import FakeEffects, flow

MAP = {
    "id": "m",
    "type": "map",
    "fields": [{"to": "owner", "from": "$.Owner"}, {"to": "amount", "from": "$.Amount"}, {"to": "id", "from": "$.Id"}],
}
RECORD = {"Owner": "pat@example.com", "Amount": 10, "Id": "006"}


def test_approval_by_a_rendered_user_with_all_policy():
    step = {
        "id": "ok",
        "type": "approve",
        "approvers": {"user": "{{ record.owner }}"},
        "policy": "all",
        "on_expiry": "auto-reject",
        "sla_hours": 4,
    }
    effects = FakeEffects()
    outcome = run(compile_flow(flow(MAP, step)), RECORD, effects)
    _, request = effects.called("approve")[0]
    assert request.approvers == {"user": "pat@example.com"}
    assert (request.policy, request.on_expiry, request.sla_hours) == ("all", "auto-reject", 4)
    assert request.summary == "Approve: ok"
    assert request.record == {"owner": "pat@example.com", "amount": 10, "id": "006"}
    assert outcome.steps[-1].output["request"]["approvers"] == {"user": "pat@example.com"}
    assert "record" not in outcome.steps[-1].output["request"]


def test_approval_by_named_users():
    step = {"id": "ok", "type": "approve", "approvers": {"users": ["dana", "lee"]}}
    effects = FakeEffects()
    run(compile_flow(flow(MAP, step)), RECORD, effects)
    assert effects.called("approve")[0][1].approvers == {"users": ["dana", "lee"]}


def test_approver_template_failure_is_reported():
    step = {"id": "ok", "type": "approve", "approvers": {"user": "{{ record.manager }}"}}
    outcome = run(compile_flow(flow(MAP, step)), RECORD, FakeEffects())
    assert outcome.status == "failed"
    assert outcome.error.field == "approvers.user" and "no attribute 'manager'" in outcome.error.message


def test_approver_needed():
    try:
        compile_flow(flow({"id": "ok", "type": "approve"}))
    except DefinitionInvalid as invalid:
        assert [(e.step_id, e.field) for e in invalid.errors] == [("ok", "steps[0].approvers")]
    else:
        raise AssertionError("an approval without approvers compiled")


def test_delivery_external_id_template():
    step = {
        "id": "erp",
        "type": "deliver",
        "connection": "ns",
        "object": "customer",
        "action": "create",
        "key": "cust-{{ record.id }}-v1",
        "external_id": "SF-{{ record.id }}",
        "external_id_field": "externalId",
    }
    effects = FakeEffects()
    run(compile_flow(flow(MAP, step)), RECORD, effects)
    request = effects.called("deliver")[0][1]
    assert (request.key, request.external_id, request.external_id_field) == ("cust-006-v1", "SF-006", "externalId")
    assert request.action == "create"


def test_delivery_needs_an_object_record():
    deliver = {"id": "erp", "type": "deliver", "connection": "ns", "object": "o", "action": "create", "key": "k"}
    effects = FakeEffects()
    outcome = run(compile_flow(flow(deliver)), [1, 2], effects)
    assert outcome.error.kind == "delivery" and "not an object" in outcome.error.message
    assert effects.called("deliver") == []


def test_lookup_by_template_failure_names_the_query_field():
    step = {"id": "acct", "type": "lookup", "connection": "sf", "object": "Account", "by": {"Id": "{{ record.acct }}"}}
    effects = FakeEffects(lookup={"Id": "1"})
    outcome = run(compile_flow(flow(MAP, step)), RECORD, effects)
    assert outcome.error.kind == "lookup" and outcome.error.field == "by.Id"
    assert effects.called("lookup") == []


def test_jump_lands_on_a_gated_step_only_if_selected():
    route = {"id": "r", "type": "route", "rules": [{"name": "big", "when": "record.amount > 100", "to": "fallback"}]}
    approve = {"id": "ok", "type": "approve", "group": "g", "on_reject": "fallback"}
    middle = {"id": "middle", "type": "map", "merge": True, "fields": [{"to": "middle", "constant": True}]}
    fallback = {"id": "fallback", "type": "map", "merge": True, "fields": [{"to": "fallback", "constant": True}]}
    plan = compile_flow(flow(MAP, route, approve, middle, fallback))
    first = run(plan, RECORD, FakeEffects())
    rejected = run(
        plan,
        RECORD,
        FakeEffects(),
        state=first.state,
        start_at="ok",
        resume={"step_id": "ok", "outcome": {"outcome": "rejected"}},
    )
    assert [(s.step_id, s.status) for s in rejected.steps] == [
        ("ok", "succeeded"),
        ("middle", "skipped"),
        ("fallback", "skipped"),
    ]
    assert rejected.steps[2].detail == {"reason": "not selected by route r"}


def test_errors_round_trip_through_json():
    outcome = run(compile_flow(flow({"id": "v", "type": "validate", "schema": "client@1"})), {"name": 1}, FakeEffects())
    stored = json.loads(json.dumps(outcome.as_dict()))
    error = EngineError.from_dict(stored["error"])
    assert error == outcome.error
    assert error.kind == "validation" and len(error.details) >= 3
