"""Steps that go through Effects: lookup, deliver, approve and batch, with suspension and resume."""

import json

from integrations.engine import PENDING, ApprovalDecision, DeliveryResult, EffectError, compile_flow, run

from .conftest import FakeEffects, flow

MAP = {
    "id": "m",
    "type": "map",
    "fields": [
        {"to": "name", "from": "$.Name"},
        {"to": "amount", "from": "$.Amount"},
        {"to": "account_id", "from": "$.AccountId"},
    ],
}
LOOKUP = {
    "id": "account",
    "type": "lookup",
    "connection": "salesforce",
    "object": "Account",
    "by": {"Id": "{{ record.account_id }}"},
    "into": "account",
}
DELIVER = {
    "id": "erp",
    "type": "deliver",
    "connection": "netsuite",
    "object": "job",
    "action": "upsert",
    "key": "opp-{{ input.Id }}",
    "external_id_field": "externalId",
}
NOTE = {
    "id": "note",
    "type": "map",
    "merge": True,
    "fields": [{"to": "erp_id", "template": "{{ steps.erp.remote_id }}"}],
}
RECORD = {"Id": "006A", "Name": "Acme", "Amount": 500000, "AccountId": "001"}


def plan_of(*steps):
    return compile_flow(flow(*steps))


# ---- lookup -------------------------------------------------------------------------------


def test_lookup_merges_the_related_record():
    effects = FakeEffects(lookup={"Id": "001", "Name": "Acme Inc"})
    outcome = run(plan_of(MAP, LOOKUP), RECORD, effects)
    step, request = effects.called("lookup")[0]
    assert step.id == "account"
    assert request == {"connection": "salesforce", "object": "Account", "by": {"Id": "001"}}
    assert outcome.record["account"] == {"Id": "001", "Name": "Acme Inc"}
    assert outcome.state["steps"]["account"] == {"Id": "001", "Name": "Acme Inc"}


def test_lookup_not_found_is_permanent_unless_optional():
    outcome = run(plan_of(MAP, LOOKUP), RECORD, FakeEffects(lookup=None))
    assert outcome.error.kind == "lookup" and outcome.error.classification == "permanent"
    assert "no Account in salesforce matches {'Id': '001'}" in outcome.error.message
    optional = run(plan_of(MAP, {**LOOKUP, "required": False}), RECORD, FakeEffects(lookup=None))
    assert optional.status == "completed" and optional.record["account"] is None


def test_lookup_transient_failure_is_classified():
    outcome = run(plan_of(MAP, LOOKUP), RECORD, FakeEffects(lookup=EffectError("timed out", transient=True)))
    assert outcome.error.classification == "transient"
    assert outcome.error.message == "Account lookup in salesforce failed: timed out"


# ---- deliver ------------------------------------------------------------------------------


def test_delivery_done_at_once_feeds_later_steps():
    effects = FakeEffects()
    outcome = run(plan_of(MAP, DELIVER, NOTE), RECORD, effects)
    _, request = effects.called("deliver")[0]
    assert (request.key, request.action, request.external_id_field, request.external_id) == (
        "opp-006A",
        "upsert",
        "externalId",
        "opp-006A",
    )
    assert request.payload == {"name": "Acme", "amount": 500000, "account_id": "001"}
    assert outcome.record["erp_id"] == "R-opp-006A"


def test_delivery_suspends_and_resumes_with_the_remote_id():
    plan = plan_of(MAP, DELIVER, NOTE)
    first = run(plan, RECORD, FakeEffects(deliver=PENDING))
    assert (first.status, first.suspended_at, first.suspend_reason) == ("suspended", "erp", "delivery")
    assert first.steps[-1].status == "waiting"
    assert first.steps[-1].output["key"] == "opp-006A"
    state = json.loads(json.dumps(first.state))  # what the runtime stores
    resumed = run(
        plan,
        RECORD,
        FakeEffects(),
        state=state,
        start_at="erp",
        resume={"step_id": "erp", "outcome": {"status": "succeeded", "remote_id": "J-9"}},
    )
    assert resumed.status == "completed"
    assert [s.step_id for s in resumed.steps] == ["erp", "note"]
    assert resumed.record["erp_id"] == "J-9"
    assert resumed.state["steps"]["erp"]["key"] == "opp-006A"


def test_refused_delivery_fails_permanently():
    outcome = run(
        plan_of(MAP, DELIVER), RECORD, FakeEffects(deliver=DeliveryResult("failed", response="422 bad currency"))
    )
    assert outcome.error.kind == "delivery" and outcome.error.classification == "permanent"
    assert "422 bad currency" in outcome.error.message


def test_transient_delivery_error_is_classified():
    outcome = run(plan_of(MAP, DELIVER), RECORD, FakeEffects(deliver=EffectError("503", transient=True)))
    assert outcome.error.classification == "transient"


def test_empty_key_is_refused_before_any_write():
    effects = FakeEffects()
    outcome = run(plan_of(MAP, {**DELIVER, "key": "{{ record.nothing | default('') }}"}), RECORD, effects)
    assert outcome.error.field == "key" and "rendered empty" in outcome.error.message
    assert effects.called("deliver") == []


# ---- approve ------------------------------------------------------------------------------

APPROVE = {
    "id": "big",
    "type": "approve",
    "when": "record.amount > 250000",
    "group": "delivery-leads",
    "sla_hours": 24,
    "summary": "{{ record.name }} worth {{ record.amount | format_money }}",
    "on_reject": "stop",
}


def test_approval_waits_then_continues_when_approved():
    plan = plan_of(MAP, APPROVE, DELIVER)
    effects = FakeEffects()
    first = run(plan, RECORD, effects)
    assert (first.status, first.suspend_reason, first.suspended_at) == ("suspended", "approval", "big")
    _, request = effects.called("approve")[0]
    assert request.approvers == {"group": "delivery-leads"}
    assert request.summary == "Acme worth USD 500,000.00"
    assert (request.sla_hours, request.on_expiry, request.policy) == (24, "escalate", "any")
    done = run(
        plan,
        RECORD,
        FakeEffects(),
        state=first.state,
        start_at="big",
        resume={"step_id": "big", "outcome": {"outcome": "approved", "by": "dana", "comment": "ok"}},
    )
    assert done.status == "completed"
    assert done.state["steps"]["big"] == {"outcome": "approved", "by": "dana", "comment": "ok"}


def test_small_deals_skip_the_approval():
    outcome = run(plan_of(MAP, APPROVE, DELIVER), {**RECORD, "Amount": 10}, FakeEffects())
    assert [s.status for s in outcome.steps] == ["succeeded", "skipped", "succeeded"]
    assert outcome.steps[1].detail == {"reason": "when is false"}


def test_rejection_halts_the_run():
    plan = plan_of(MAP, APPROVE, DELIVER)
    first = run(plan, RECORD, FakeEffects())
    halted = run(
        plan,
        RECORD,
        FakeEffects(),
        state=first.state,
        start_at="big",
        resume={"step_id": "big", "outcome": {"outcome": "rejected", "by": "dana"}},
    )
    assert halted.status == "halted"
    assert [(s.step_id, s.status) for s in halted.steps] == [("big", "succeeded"), ("erp", "skipped")]
    assert halted.steps[1].detail == {"reason": "run halted"}


def test_rejection_can_branch_forward():
    notify = {"id": "notify", "type": "map", "merge": True, "fields": [{"to": "rejected", "constant": True}]}
    plan = plan_of(MAP, {**APPROVE, "on_reject": "notify"}, DELIVER, notify)
    effects = FakeEffects(approve=ApprovalDecision("rejected", "dana", "too risky"))
    outcome = run(plan, RECORD, effects)
    assert outcome.status == "completed"
    assert [(s.step_id, s.status) for s in outcome.steps][1:] == [
        ("big", "succeeded"),
        ("erp", "skipped"),
        ("notify", "succeeded"),
    ]
    assert outcome.record["rejected"] is True
    assert effects.called("deliver") == []


def test_resume_with_a_bad_outcome_fails_clearly():
    plan = plan_of(MAP, APPROVE)
    first = run(plan, RECORD, FakeEffects())
    outcome = run(
        plan, RECORD, FakeEffects(), state=first.state, start_at="big", resume={"step_id": "big", "outcome": {}}
    )
    assert outcome.status == "failed"
    assert "approved' or 'rejected" in outcome.error.message


# ---- batch --------------------------------------------------------------------------------

BATCH = {
    "id": "collect",
    "type": "batch",
    "group_key": "{{ record.client }}-{{ record.period }}",
    "size": 50,
    "max_wait_seconds": 3600,
}
TOTAL = {
    "id": "invoice",
    "type": "map",
    "fields": [
        {"to": "client", "template": "{{ record.group_key }}"},
        {"to": "hours", "template": "{{ record.records | sum(attribute='hours') }}"},
    ],
}


def test_batch_collects_then_continues_once_for_the_group():
    plan = plan_of(BATCH, TOTAL)
    effects = FakeEffects()
    first = run(plan, {"client": "C1", "period": "2026-03", "hours": 8}, effects)
    assert (first.status, first.suspend_reason) == ("suspended", "batch")
    assert effects.called("batch")[0][1] == "C1-2026-03"
    flushed = run(
        plan,
        {"client": "C1"},
        FakeEffects(),
        state=first.state,
        start_at="collect",
        resume={"step_id": "collect", "outcome": {"batch_id": "B1", "records": [{"hours": 8}, {"hours": 4.5}]}},
    )
    assert flushed.status == "completed"
    assert flushed.record == {"client": "C1-2026-03", "hours": 12.5}


def test_other_runs_of_the_batch_finish_there():
    plan = plan_of(BATCH, TOTAL)
    first = run(plan, {"client": "C1", "period": "p"}, FakeEffects())
    joined = run(
        plan,
        {},
        FakeEffects(),
        state=first.state,
        start_at="collect",
        resume={"step_id": "collect", "outcome": {"joined": "B1"}},
    )
    assert joined.status == "completed"
    assert joined.steps[-1].status == "skipped"
    assert joined.steps[-1].detail == {"reason": "continued by batch B1"}
