"""Approval steps: the run waits; approve resumes it, reject (with a comment) halts it,
and past-due tasks are auto-rejected, auto-approved or escalated once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.approvals import services as approvals
from integrations.approvals.models import ApprovalTask
from integrations.audit.models import AuditEntry
from integrations.deliveries.models import Delivery
from integrations.events.services import ingest_event
from integrations.runs.services import execute_run
from tests.runtime.conftest import publish_flow

pytestmark = pytest.mark.django_db


def deal_flow(on_expiry="auto-reject"):
    return {
        "trigger": {"type": "event", "connection": "crm", "event": "deal.won"},
        "steps": [
            {
                "id": "shape",
                "type": "map",
                "fields": [
                    {"to": "name", "from": "$.name", "required": True},
                    {"to": "value", "from": "$.value", "required": True},
                ],
            },
            {
                "id": "big_deal",
                "type": "approve",
                "when": "record.value > 1000",
                "approvers": {"group": "Approver"},
                "sla_hours": 24,
                "on_expiry": on_expiry,
                "summary": "Deal {{ record.name }} worth {{ record.value }}",
            },
            {
                "id": "post",
                "type": "deliver",
                "connection": "erp",
                "object": "projects",
                "action": "create",
                "key": "deal:{{ record.name }}",
            },
        ],
    }


@pytest.fixture
def waiting(personas, crm, erp_offline, doorbells):
    def make(on_expiry="auto-reject", value=5000, name="acme"):
        publish_flow(personas["analyst"], deal_flow(on_expiry), key=f"deals-{on_expiry}")
        event = ingest_event(
            source="crm", type="deal.won", external_id=f"d-{name}", payload={"name": name, "value": value}
        )
        run = execute_run(event.runs[0].pk)
        return run, ApprovalTask.objects.filter(run=run).first()

    return make


def test_a_big_deal_waits_for_approval_and_approving_resumes_it(waiting, personas):
    run, task = waiting()
    assert run.status == "waiting-approval" and task.status == "pending"
    assert task.title == "Deal acme worth 5000" and task.record == {"name": "acme", "value": 5000}
    assert abs((task.due_at - timezone.now()) - timedelta(hours=24)) < timedelta(minutes=1)
    assert list(approvals.inbox(personas["approver"])) == [task]
    assert list(approvals.inbox(personas["viewer"])) == []
    approvals.decide(task, personas["approver"], "approved")
    run.refresh_from_db()
    assert run.status == "queued"
    run = execute_run(run.pk)
    assert run.status == "waiting-delivery" and Delivery.objects.get().idempotency_key == "deal:acme"
    assert run.steps.filter(step_id="big_deal", status="succeeded").exists()
    assert AuditEntry.objects.filter(action="approval.approve", actor=personas["approver"]).exists()


def test_a_small_deal_skips_the_approval(waiting):
    run, task = waiting(value=10)
    assert task is None and run.status == "waiting-delivery"


def test_rejecting_needs_a_comment_and_halts_the_run(waiting, personas):
    run, task = waiting()
    with pytest.raises(approvals.DecisionInvalid) as caught:
        approvals.decide(task, personas["approver"], "rejected", "")
    assert caught.value.field == "comment"
    approvals.decide(task, personas["approver"], "rejected", "margin too thin")
    run = execute_run(run.pk)
    assert run.status == "halted" and Delivery.objects.count() == 0
    with pytest.raises(approvals.DecisionInvalid) as caught:
        approvals.decide(task, personas["admin"], "approved")
    assert caught.value.field == "status"  # decided once


def test_only_approvers_of_the_group_may_decide(waiting, personas):
    _run, task = waiting()
    with pytest.raises(approvals.DecisionInvalid) as caught:
        approvals.decide(task, personas["operator"], "approved")
    assert caught.value.forbidden


@pytest.mark.parametrize(
    ("on_expiry", "status", "run_status"),
    [("auto-reject", "rejected", "halted"), ("auto-approve", "approved", "waiting-delivery")],
)
def test_past_due_tasks_decide_themselves(waiting, on_expiry, status, run_status):
    run, task = waiting(on_expiry)
    assert approvals.expire_due(timezone.now() + timedelta(hours=23)) == 0
    assert approvals.expire_due(timezone.now() + timedelta(hours=25)) == 1
    task.refresh_from_db()
    assert task.status == status and task.comment.startswith("auto-")
    assert execute_run(run.pk).status == run_status


def test_past_due_escalation_happens_once_and_leaves_the_task_pending(waiting, personas):
    run, task = waiting("escalate")
    later = timezone.now() + timedelta(hours=25)
    assert approvals.expire_due(later) == 1
    assert approvals.expire_due(later) == 0
    task.refresh_from_db()
    assert task.status == "pending" and task.escalated_at and task.group == "Admin"
    assert list(approvals.inbox(personas["admin"])) == [task]
    assert list(approvals.inbox(personas["approver"])) == []
    run.refresh_from_db()
    assert run.status == "waiting-approval"


def test_policy_all_waits_for_every_listed_approver(personas, crm, erp_offline, doorbells):
    from django.contrib.auth.models import Group

    from tests.conftest import make_user

    second = make_user("approver2", "Approver")
    assert Group.objects.get(name="Approver") in second.groups.all()
    definition = deal_flow()
    definition["steps"][1] = {
        **definition["steps"][1],
        "approvers": {"users": ["approver", "approver2"]},
        "policy": "all",
    }
    publish_flow(personas["analyst"], definition, key="deals-all")
    event = ingest_event(source="crm", type="deal.won", external_id="d-all", payload={"name": "big", "value": 9000})
    run = execute_run(event.runs[0].pk)
    task = ApprovalTask.objects.get(run=run)
    approvals.decide(task, personas["approver"], "approved", "fine by me")
    task.refresh_from_db()
    assert task.status == "pending" and [a["by"] for a in task.approvals_so_far] == ["approver"]
    with pytest.raises(approvals.DecisionInvalid):
        approvals.decide(task, personas["approver"], "approved")  # once per person
    run.refresh_from_db()
    assert run.status == "waiting-approval"
    approvals.decide(task, second, "approved")
    assert execute_run(run.pk).status == "waiting-delivery"
