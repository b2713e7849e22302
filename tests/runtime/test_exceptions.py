"""Exception actions: retry, edit-and-resubmit (diff kept, key:rN), skip, resolve, assign."""

import copy

import pytest

from integrations.audit.models import AuditEntry
from integrations.deliveries.models import Delivery
from integrations.events.services import ingest_event
from integrations.flows.services import publish, save_draft
from integrations.runs.inbox import actions
from integrations.runs.inbox.resubmit import resubmit
from integrations.runs.models import Run, RunException
from integrations.runs.services import execute_run
from tests.runtime.conftest import INVOICE_FLOW
from tests.runtime.test_event_to_delivery import drive

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_posting(invoice_flow, erp, sim, doorbells, django_capture_on_commit_callbacks):
    sim.config(script={"INV-4": ["422"]})
    result = ingest_event(source="crm", type="invoice.approved", external_id="e4", payload={"id": "INV-4", "amount": 9})
    drive(result.runs[0].pk, django_capture_on_commit_callbacks)
    return RunException.objects.get()


def test_edit_and_resubmit_posts_the_edited_payload_once_under_a_new_key(
    dead_posting, personas, sim, django_capture_on_commit_callbacks
):
    operator = personas["operator"]
    edited = {**dead_posting.original_input, "amount": 10}
    with django_capture_on_commit_callbacks(execute=True):
        exc = resubmit(dead_posting, operator, edited, note="cost centre fixed")
    assert exc.status == "retrying"
    assert exc.original_input["amount"] == 9  # the original stays as it came
    assert exc.input_revisions[0]["diff"] == {"amount": [9, 10]} and exc.input_revisions[0]["by"] == "operator"
    delivery = Delivery.objects.get()
    assert delivery.send_key == "invoice:INV-4:r1" and delivery.payload["amount"] == 10
    run = drive(exc.run_id, django_capture_on_commit_callbacks)
    assert run.status == "succeeded"
    assert [p["amount"] for p in sim.postings()] == [10]
    exc.refresh_from_db()
    assert exc.status == "resolved"
    entry = AuditEntry.objects.get(action="exception.resubmit")
    assert entry.actor == operator and entry.changes == {"amount": [9, 10]}


def test_unchanged_input_is_refused(dead_posting, personas):
    with pytest.raises(actions.ActionInvalid) as caught:
        resubmit(dead_posting, personas["operator"], dict(dead_posting.original_input))
    assert caught.value.field == "input"


def test_retry_with_the_current_version_starts_a_new_run_from_the_start(
    invoice_flow, erp_offline, personas, doorbells, django_capture_on_commit_callbacks
):
    result = ingest_event(source="crm", type="invoice.approved", external_id="e5", payload={"amount": 1})
    failed = execute_run(result.runs[0].pk)
    exc = RunException.objects.get(run=failed)
    fixed = copy.deepcopy(INVOICE_FLOW)
    fixed["steps"][0]["fields"][0] = {"to": "external_ref", "from": "$.id", "default": "UNKNOWN"}
    save_draft(invoice_flow, personas["analyst"], fixed)
    publish(invoice_flow, personas["analyst"])
    with django_capture_on_commit_callbacks(execute=True):
        actions.retry(exc, personas["operator"], from_step="start", version="current")
    retry = Run.objects.get(retry_of=failed)
    assert doorbells["runs"] == [retry.pk]
    assert (retry.trigger, retry.flow_version.number, retry.event_id) == ("retry", 2, failed.event_id)
    retry = execute_run(retry.pk)
    assert retry.status == "waiting-delivery"
    assert Delivery.objects.get().idempotency_key == "invoice:UNKNOWN"
    exc.refresh_from_db()
    assert exc.status == "retrying"


def test_a_retry_that_fails_again_reopens_the_same_exception(invoice_flow, erp_offline, personas, doorbells):
    result = ingest_event(source="crm", type="invoice.approved", external_id="e6", payload={"amount": 1})
    exc = RunException.objects.get(run=execute_run(result.runs[0].pk))
    actions.retry(exc, personas["operator"])
    execute_run(Run.objects.get(trigger="retry").pk)
    exc.refresh_from_db()
    assert RunException.objects.count() == 1
    assert (exc.status, exc.duplicate_count, exc.run.trigger) == ("open", 2, "retry")
    assert exc.run.sequence == 1  # same version and event as the first run: the next sequence


def test_skip_resolve_assign_comment_tag(invoice_flow, erp_offline, personas, doorbells):
    operator = personas["operator"]
    result = ingest_event(source="crm", type="invoice.approved", external_id="e7", payload={"amount": 1})
    exc = RunException.objects.get(run=execute_run(result.runs[0].pk))
    with pytest.raises(actions.ActionInvalid) as caught:
        actions.assign(exc, operator, "viewer")  # a viewer cannot work exceptions
    assert caught.value.field == "assignee"
    assert actions.assign(exc, operator, "admin").status == "assigned"
    actions.comment(exc, operator, "asked finance")
    assert actions.tag(exc, operator, add=["finance", "q3"]).tags == ["finance", "q3"]
    with pytest.raises(actions.ActionInvalid) as caught:
        actions.resolve(exc, operator, " ")
    assert caught.value.field == "reason"
    exc = actions.resolve(exc, operator, "posted by hand in the ERP")
    assert (exc.status, exc.resolved_by) == ("resolved", operator)
    with pytest.raises(actions.ActionInvalid) as caught:
        actions.skip(exc, operator)
    assert caught.value.conflict
    actions_logged = set(AuditEntry.objects.filter(object_id=str(exc.pk)).values_list("action", flat=True))
    assert {"exception.assign", "exception.comment", "exception.tag", "exception.resolve"} <= actions_logged


CHECKED_FLOW = {
    "trigger": {"type": "event", "connection": "crm", "event": "invoice.approved"},
    "steps": [
        INVOICE_FLOW["steps"][0],
        {
            "id": "check",
            "type": "validate",
            "rules": [{"when": "record.amount <= 0", "message": "amount must be positive", "field": "amount"}],
        },
        INVOICE_FLOW["steps"][1],
    ],
}


def test_resubmitting_an_edited_step_input_is_validated_first_then_runs_from_that_step(
    personas, crm, erp_offline, doorbells
):
    from tests.runtime.conftest import publish_flow

    publish_flow(personas["analyst"], CHECKED_FLOW, key="checked")
    result = ingest_event(
        source="crm", type="invoice.approved", external_id="e8", payload={"id": "INV-8", "amount": -3}
    )
    exc = RunException.objects.get(run=execute_run(result.runs[0].pk))
    assert (exc.step_id, exc.original_input) == ("check", {"external_ref": "INV-8", "amount": -3, "currency": "EUR"})
    with pytest.raises(actions.ActionInvalid) as caught:
        resubmit(exc, personas["operator"], {**exc.original_input, "amount": 0})
    assert (caught.value.field, caught.value.message) == ("input.amount", "amount must be positive")
    resubmit(exc, personas["operator"], {**exc.original_input, "amount": 3})
    retry = execute_run(Run.objects.get(trigger="retry").pk)
    assert retry.status == "waiting-delivery" and retry.start_at == "post"
    assert [s.step_id for s in retry.steps.all()] == ["check", "post"]  # the map step did not run again
    assert Delivery.objects.get().payload["amount"] == 3
