"""The draft-editing service (integrations/flows/editing.py) and the step-input helper."""

import pytest

from integrations.audit.models import AuditEntry
from integrations.flows import editing, services
from integrations.flowtests.samples import pin
from studio.ui.flows.sample_input import explain, step_input

pytestmark = pytest.mark.django_db

MAP = {"id": "shape", "type": "map", "fields": [{"to": "name", "from": "$.Name"}, {"to": "amount", "from": "$.Amount"}]}
CHECK = {"id": "check", "type": "validate", "rules": [{"when": "record.amount < 0", "message": "negative"}]}


@pytest.fixture
def flow(personas):
    return services.create_flow(personas["analyst"], key="opp", name="Opportunity")


def test_insert_replace_move_delete_keep_the_draft_and_audit_each_part(flow, personas):
    user = personas["analyst"]
    editing.insert_step(flow, user, 0, MAP)
    draft, errors = editing.insert_step(flow, user, 1, CHECK)
    assert [s["id"] for s in draft.definition["steps"]] == ["shape", "check"] and errors == []
    draft, _ = editing.move_step(flow, user, 1, 0)
    assert [s["id"] for s in draft.definition["steps"]] == ["check", "shape"]
    draft, errors = editing.replace_step(flow, user, 1, {**MAP, "fields": [{"to": "name", "template": "{{ oops"}]})
    assert errors and errors[0]["field"].startswith("steps[1].fields[0]")  # saved although invalid
    draft, _ = editing.delete_step(flow, user, 0)
    assert [s["id"] for s in draft.definition["steps"]] == ["shape"]
    entries = AuditEntry.objects.filter(action__startswith="flow.step").order_by("id")
    actions = list(entries.values_list("action", flat=True))
    assert actions == ["flow.step.add", "flow.step.add", "flow.step.move", "flow.step.update", "flow.step.delete"]
    moved = AuditEntry.objects.get(action="flow.step.move")
    assert moved.changes == {"order": [["shape", "check"], ["check", "shape"]]}


def test_bad_index_and_stale_draft_are_refused_and_change_nothing(flow, personas):
    user = personas["analyst"]
    editing.insert_step(flow, user, 0, MAP)
    with pytest.raises(editing.EditError) as exc:
        editing.delete_step(flow, user, 5)
    assert exc.value.field == "index"
    with pytest.raises(editing.EditError):
        editing.insert_step(flow, user, 0, "not a step")
    with pytest.raises(editing.StaleDraft):
        editing.replace_step(flow, user, 0, CHECK, base_hash="0" * 64)
    assert services.draft_of(flow).definition["steps"] == [MAP]


def test_trigger_and_settings(flow, personas):
    user = personas["analyst"]
    draft, errors = editing.set_trigger(flow, user, {"type": "schedule", "cron": "61 * * * *"})
    assert any(e["field"] == "trigger.cron" and "61" in e["message"] for e in errors)
    draft, _ = editing.set_settings(flow, user, value_maps={"r": {"Europe": "EMEA"}})
    assert draft.definition["value_maps"] == {"r": {"Europe": "EMEA"}}
    with pytest.raises(editing.EditError):
        editing.set_settings(flow, user, steps=[])


def test_step_input_runs_the_steps_before_it(flow, personas):
    user = personas["analyst"]
    editing.insert_step(flow, user, 0, MAP)
    editing.insert_step(flow, user, 1, CHECK)
    draft = services.draft_of(flow)
    sample = {"Name": "Acme", "Amount": 5, "Other": 1}
    assert step_input(flow, draft, 0, sample) == sample
    assert step_input(flow, draft, 1, sample) == {"name": "Acme", "amount": 5}
    assert explain(flow, draft, 1).source == "no sample yet"


def test_step_input_of_an_invalid_earlier_step_says_so(flow, personas):
    user = personas["analyst"]
    editing.insert_step(flow, user, 0, {**MAP, "fields": [{"to": "name", "template": "{{ oops"}]})
    editing.insert_step(flow, user, 1, CHECK)
    result = explain(flow, services.draft_of(flow), 1, {"Name": "x"})
    assert result.record == {"Name": "x"} and "earlier step is invalid" in result.problem


def test_step_input_uses_the_newest_pinned_sample(flow, personas):
    user = personas["analyst"]
    editing.insert_step(flow, user, 0, MAP)
    editing.insert_step(flow, user, 1, CHECK)
    pin(flow, user, name="big deal", record={"Name": "Big", "Amount": 900})
    result = explain(flow, services.draft_of(flow), 1)
    assert result.record == {"name": "Big", "amount": 900} and result.source == "pinned sample 'big deal'"
