"""The runner: step results, `when`, retry from a failed step, dry run, robustness."""

import json

import pytest

from integrations.engine import DryRunEffects, EffectError, compile_flow, run

from .conftest import FakeEffects, flow

MAP = {
    "id": "m",
    "type": "map",
    "fields": [
        {"to": "name", "from": "$.Name", "required": True},
        {"to": "amount", "from": "$.Amount", "type": "number"},
    ],
}
CHECK = {"id": "check", "type": "validate", "rules": [{"when": "record.amount > 100", "message": "too big"}]}
LOOKUP = {"id": "owner", "type": "lookup", "connection": "crm", "object": "User", "by": {"Id": "{{ input.OwnerId }}"}}
DELIVER = {
    "id": "erp",
    "type": "deliver",
    "connection": "erp",
    "object": "job",
    "action": "create",
    "key": "{{ record.name }}",
}
APPROVE = {"id": "ok", "type": "approve", "group": "leads"}
RECORD = {"Name": "Acme", "Amount": "50", "OwnerId": "005"}


def test_step_results_carry_input_output_and_duration():
    outcome = run(compile_flow(flow(MAP, CHECK)), RECORD, FakeEffects())
    assert outcome.status == "completed" and outcome.error is None
    first = outcome.steps[0]
    assert (first.step_id, first.type, first.status) == ("m", "map", "succeeded")
    assert first.input == RECORD
    assert first.output == {"name": "Acme", "amount": 50}
    assert first.duration_ms >= 0
    assert outcome.steps[1].input == {"name": "Acme", "amount": 50}
    json.dumps(outcome.as_dict())  # the whole outcome is storable as JSON


def test_failure_stops_the_run_and_later_steps_do_not_run():
    effects = FakeEffects()
    outcome = run(compile_flow(flow(MAP, CHECK, DELIVER)), {**RECORD, "Amount": 500}, effects)
    assert outcome.status == "failed"
    assert [s.step_id for s in outcome.steps] == ["m", "check"]
    assert outcome.state["failed_at"] == "check"
    assert effects.called("deliver") == []


def test_retry_from_the_failed_step_with_an_edited_record():
    plan = compile_flow(flow(MAP, CHECK, DELIVER))
    failed = run(plan, {**RECORD, "Amount": 500}, FakeEffects())
    state = {**failed.state, "record": {**failed.state["record"], "amount": 99}}  # edit-and-resubmit
    retried = run(plan, {**RECORD, "Amount": 500}, FakeEffects(), state=state, start_at="check")
    assert retried.status == "completed"
    assert [s.step_id for s in retried.steps] == ["check", "erp"]
    assert retried.steps[1].output["key"] == "Acme"


def test_when_failure_is_a_rule_error():
    outcome = run(compile_flow(flow(MAP, {**DELIVER, "when": "record.nope > 1"})), RECORD, FakeEffects())
    assert outcome.status == "failed"
    assert (outcome.error.step_id, outcome.error.kind, outcome.error.field) == ("erp", "rule", "when")


def test_an_effects_bug_never_crashes_the_caller():
    outcome = run(compile_flow(flow(MAP, LOOKUP)), RECORD, FakeEffects(lookup=RuntimeError("db gone")))
    assert outcome.status == "failed"
    assert outcome.error.classification == "transient"
    assert outcome.error.message == "unexpected RuntimeError: db gone"


def test_resume_must_name_the_start_step():
    plan = compile_flow(flow(MAP, APPROVE))
    with pytest.raises(ValueError, match="resume is for step 'ok'"):
        run(plan, RECORD, FakeEffects(), start_at="m", resume={"step_id": "ok", "outcome": {"outcome": "approved"}})
    with pytest.raises(KeyError):
        run(plan, RECORD, FakeEffects(), start_at="zzz")


def test_a_map_step_cannot_be_resumed():
    plan = compile_flow(flow(MAP, APPROVE))
    outcome = run(plan, RECORD, FakeEffects(), resume={"step_id": "m", "outcome": {}})
    assert outcome.status == "failed" and "cannot be resumed" in outcome.error.message


def test_dry_run_simulates_writes_and_notes_approvals():
    effects = DryRunEffects()
    outcome = run(compile_flow(flow(MAP, LOOKUP, APPROVE, DELIVER)), RECORD, effects, dry_run=True)
    assert outcome.status == "completed"
    by_id = {s.step_id: s for s in outcome.steps}
    assert by_id["owner"].detail["note"] == "lookup not performed in dry run"
    assert by_id["ok"].output["comment"] == "would wait for approval"
    assert by_id["ok"].detail["note"] == "would wait for approval"
    assert by_id["ok"].detail["approvers"] == {"group": "leads"}
    assert by_id["erp"].output["simulated"] is True and by_id["erp"].output["remote_id"] == "dry-run:Acme"
    assert all(s.detail.get("dry_run") for s in outcome.steps)
    assert [d.key for d in effects.deliveries] == ["Acme"]
    assert len(effects.approvals) == 1


def test_dry_run_uses_read_only_callables_when_given():
    effects = DryRunEffects(
        lookup=lambda step, request: {"Id": request["by"]["Id"], "Email": "pat@example.com"},
        crosswalk=lambda obj, system, ext: None,
    )
    outcome = run(compile_flow(flow(MAP, LOOKUP)), RECORD, effects, dry_run=True)
    assert outcome.state["steps"]["owner"] == {"Id": "005", "Email": "pat@example.com"}


def test_transient_effect_errors_keep_their_classification():
    outcome = run(compile_flow(flow(MAP, DELIVER)), RECORD, FakeEffects(deliver=EffectError("429", transient=True)))
    assert outcome.error.classification == "transient"
    assert outcome.error.as_dict()["classification"] == "transient"


def test_mapping_only_plans_report_failures_like_the_general_path():
    plan = compile_flow(flow(MAP))
    assert plan.mapping_only
    outcome = run(plan, {"Amount": "x"}, FakeEffects())
    assert outcome.status == "failed"
    assert outcome.error.step_id == "m" and outcome.error.kind == "mapping"


def test_dry_run_flushes_a_batch_with_just_this_record():
    batch = {"id": "collect", "type": "batch", "group_key": "{{ record.name }}", "size": 10, "max_wait_seconds": 60}
    total = {"id": "total", "type": "map", "fields": [{"to": "count", "template": "{{ record.count }}"}]}
    outcome = run(compile_flow(flow(MAP, batch, total)), RECORD, DryRunEffects(), dry_run=True)
    assert outcome.status == "completed"
    assert outcome.record == {"count": 1}
    assert outcome.state["steps"]["collect"] == {"group_key": "Acme", "batch_id": "dry-run", "count": 1}
