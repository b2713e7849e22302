"""Approval emails: opening a task mails its deciders; escalation past due mails the
Admins; an automatic decision at the due time mails the approvers. Each is audited, each
recipient gets a message of their own, and the record being approved is not in it."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from integrations.approvals import services as approvals
from integrations.audit.models import AuditEntry
from tests.conftest import make_user
from tests.runtime.test_approvals import waiting  # noqa: F401

pytestmark = pytest.mark.django_db
LATER = timedelta(hours=25)


def sent_to() -> list[list[str]]:
    return [m.to for m in mail.outbox]


@pytest.fixture
def approvers(personas):
    """A second member of the Approver group, and one without an email address."""
    make_user("approver2", "Approver")
    make_user("nomail", "Approver").__class__.objects.filter(username="nomail").update(email="")


def test_opening_a_task_mails_each_group_member_a_link_and_no_record(
    waiting,  # noqa: F811
    approvers,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.SWITCHBOARD_PUBLIC_URL = "https://switchboard.example.com/"
    with django_capture_on_commit_callbacks(execute=True):
        _run, task = waiting(value=5000, name="acme-secret-deal")
    assert sorted(sent_to()) == [["approver2@example.com"], ["approver@example.com"]]
    message = mail.outbox[0]
    assert message.subject == "[Switchboard] Approval needed: Deal acme-secret-deal worth 5000"
    assert f"https://switchboard.example.com/approvals/?task={task.pk}" in message.body
    assert "Step: big_deal" in message.body and "Due: " in message.body
    # The summary the approver sees is the title; the record itself is not in the mail.
    assert "'value'" not in message.body and '"value"' not in message.body and "{" not in message.body
    assert AuditEntry.objects.get(action="approval.notify").message == "opened: emailed approver, approver2"


def test_a_task_is_announced_once_even_when_the_run_asks_again(waiting, django_capture_on_commit_callbacks):  # noqa: F811
    from integrations.runs.services import execute_run

    with django_capture_on_commit_callbacks(execute=True):
        run, _task = waiting()
        execute_run(run.pk)  # the engine asks for the task again on every resume
    assert len(mail.outbox) == 1


def test_escalation_past_due_mails_the_admins(waiting, personas, django_capture_on_commit_callbacks):  # noqa: F811
    _run, task = waiting(on_expiry="escalate")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert approvals.expire_due(timezone.now() + LATER) == 1
        assert approvals.expire_due(timezone.now() + LATER) == 0  # escalated once, mailed once
    assert sent_to() == [["admin@example.com"]]
    assert mail.outbox[0].subject.startswith("[Switchboard] Escalated to you, past due: ")
    assert f"?task={task.pk}" in mail.outbox[0].body
    notes = AuditEntry.objects.filter(action="approval.notify").order_by("id")
    assert notes.last().message == "escalated: emailed admin"


@pytest.mark.parametrize(("on_expiry", "status"), [("auto-reject", "rejected"), ("auto-approve", "approved")])
def test_an_automatic_decision_mails_the_approvers(waiting, on_expiry, status, django_capture_on_commit_callbacks):  # noqa: F811
    waiting(on_expiry=on_expiry)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approvals.expire_due(timezone.now() + LATER)
    assert sent_to() == [["approver@example.com"]]
    assert f"was {status} automatically" in mail.outbox[0].body


def test_a_named_assignee_alone_is_mailed(personas, crm, erp_offline, doorbells, django_capture_on_commit_callbacks):
    from integrations.events.services import ingest_event
    from integrations.runs.services import execute_run
    from tests.runtime.conftest import publish_flow
    from tests.runtime.test_approvals import deal_flow

    flow = deal_flow()
    flow["steps"][1]["approvers"] = {"user": "operator"}
    publish_flow(personas["analyst"], flow, key="deals-named")
    with django_capture_on_commit_callbacks(execute=True):
        event = ingest_event(source="crm", type="deal.won", external_id="d-1", payload={"name": "x", "value": 5000})
        execute_run(event.runs[0].pk)
    assert sent_to() == [["operator@example.com"]]


@override_settings(EMAIL_BACKEND="tests.runtime.test_approval_notifications.BrokenBackend")
def test_a_mail_server_failure_is_audited_and_the_task_still_opens(waiting, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        run, task = waiting()
    assert run.status == "waiting-approval" and task.status == "pending"
    assert AuditEntry.objects.get(action="approval.notify_failed").message == "opened: not sent to approver"


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")
