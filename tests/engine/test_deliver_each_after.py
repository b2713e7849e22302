"""A deliver step with `each` writes once per item under the item's own key, its payload built
from `payload` templates; `after` names the earlier delivery those writes wait for (the
runtime holds them until it succeeded). Bad uses are refused when the draft is saved."""

from integrations.engine import PENDING, DeliveryResult, compile_flow, run, validate_definition

from .conftest import FakeEffects, flow

BILL = {"id": "post", "type": "deliver", "connection": "netsuite", "object": "timeBill", "action": "upsert",
        "key": "tb:{{ record.group }}", "external_id_field": "externalId"}  # fmt: skip
MARK = {"id": "billed", "type": "deliver", "connection": "kantata", "object": "external_references",
        "action": "upsert", "after": "post", "each": "{{ record.entries }}", "key": "billed:{{ item.id }}",
        "external_id_field": "service_model_ref", "external_id": "{{ steps.post.key }}#{{ item.id }}",
        "payload": {"subject_type": "TimeEntry", "subject_id": "{{ item.id }}", "hours": "{{ item.hours }}",
                    "service_model_ref": "{{ steps.post.key }}#{{ item.id }}"}}  # fmt: skip
RECORD = {"group": "P1", "entries": [{"id": "901", "hours": 1.5}, {"id": "902", "hours": 2}]}


def test_each_item_is_one_write_with_its_own_key_payload_and_the_delivery_it_follows():
    effects = FakeEffects()
    outcome = run(compile_flow(flow(BILL, MARK)), RECORD, effects)
    assert outcome.status == "completed", outcome.error
    bill, *marks = [request for _step, request in effects.called("deliver")]
    assert bill.key == "tb:P1" and bill.after is None and bill.payload == RECORD
    assert [m.key for m in marks] == ["billed:901", "billed:902"]
    assert [m.after for m in marks] == ["tb:P1", "tb:P1"]
    assert marks[0].payload == {"subject_type": "TimeEntry", "subject_id": "901", "hours": 1.5,
                                "service_model_ref": "tb:P1#901"}  # fmt: skip
    assert marks[1].external_id == "tb:P1#902" and marks[1].payload["hours"] == 2
    assert outcome.state["steps"]["billed"] == {"status": "succeeded", "count": 2, "keys": ["billed:901", "billed:902"],
                                                "after": "tb:P1"}  # fmt: skip


def test_the_step_waits_while_any_write_is_pending():
    effects = FakeEffects(
        deliver=lambda _step, request: PENDING if request.key == "billed:902" else DeliveryResult("succeeded", "R")
    )
    outcome = run(compile_flow(flow(BILL, MARK)), RECORD, effects)
    assert outcome.status == "suspended" and outcome.suspended_at == "billed"
    assert outcome.state["steps"]["billed"]["pending"] == 1


def test_each_must_render_a_list():
    outcome = run(compile_flow(flow(BILL, {**MARK, "each": "{{ record.group }}"})), RECORD, FakeEffects())
    assert outcome.status == "failed"
    assert outcome.error.step_id == "billed" and outcome.error.field == "each" and "not a list" in outcome.error.message


def test_after_must_name_an_earlier_deliver_step():
    later = validate_definition(flow({**MARK, "after": "post"}, BILL))
    assert [(e.step_id, e.field) for e in later] == [("billed", "steps[0].after")]
    mapped = {"id": "shape", "type": "map", "fields": [{"to": "group", "from": "$.group"}]}
    not_a_delivery = validate_definition(flow(mapped, {**MARK, "after": "shape"}))
    assert [(e.step_id, e.field) for e in not_a_delivery] == [("billed", "steps[1].after")]
    assert "not a deliver step" in not_a_delivery[0].message
    broken = validate_definition(flow(BILL, {**MARK, "payload": {"subject_id": "{{ item.id "}}))
    assert [(e.step_id, e.field) for e in broken] == [("billed", "steps[1].payload.subject_id")]
