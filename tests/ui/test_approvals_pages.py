"""The approver inbox as people use it: the card leads with the business summary, says why
it came to you and when it is due; approve, reject (comment required, error at the field)
and reassign swap the card in place; `?task=<id>` from the e-mail opens that card; bulk
approval only within one step, after a count confirmation; an approver decides only what is
theirs or their group's, and everyone else sees the inbox without controls."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from integrations.approvals.models import ApprovalTask
from integrations.audit.models import AuditEntry
from integrations.events.services import ingest_event
from integrations.runs.models import Run
from integrations.runs.services import execute_run
from tests.api.runtime_fixtures import *  # noqa: F403
from tests.conftest import make_user
from tests.runtime.conftest import publish_flow
from tests.runtime.test_approvals import deal_flow

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
INBOX = "/approvals/"


@pytest.fixture
def deals(personas, crm, erp_offline, doorbells):
    """make(n, key=...) → n pending approval tasks of one flow's approve step (group Approver)."""
    made = {"count": 0}

    def make(n=1, key="deals", flow=None):
        flow = flow or deal_flow()
        if not ApprovalTask.objects.filter(run__flow_version__flow__key=key).exists():
            publish_flow(personas["analyst"], flow, key=key)
        tasks = []
        for _ in range(n):
            made["count"] += 1
            name = f"client-{made['count']}"
            event = ingest_event(
                source="crm",
                type=flow["trigger"]["event"],
                external_id=f"{key}-{name}",
                payload={"name": name, "value": 5000},
            )
            tasks.append(execute_run(event.runs[0].pk).approvals.get())
        return tasks

    return make


def focus_of(html: str) -> str:
    """The card opened by ?task=, alone."""
    start = html.index('data-testid="focus"')
    return html[start : html.index("</section>", start)]


def cards(html: str) -> list[str]:
    return re.findall(r'data-testid="approval-card" data-task="(\d+)"', html)


def test_pending_card_leads_with_the_business_summary_why_you_and_due(client_for, deals):
    task = deals()[0]
    task.record = {
        "customer": {"name": "Acme GmbH"},
        "project": "Rollout",
        "amount": 9000,
        "currency": "EUR",
        "hours": 12.5,
    }
    task.save()
    html = client_for("approver").get(INBOX).content.decode()
    assert cards(html) == [str(task.pk)]
    summary = re.search(r'data-testid="approval-summary">(.*?)</dl>', html, re.S).group(1)
    labels = re.findall(r"<dt>(\w+)</dt><dd>([^<]*)</dd>", summary)
    assert labels == [("Client", "Acme GmbH"), ("Project", "Rollout"), ("Amount", "9000 EUR"), ("Hours", "12.5")]
    assert "You are in the Approver group, which approves this step." in html
    due = re.search(r'data-testid="approval-due">Due <time datetime="([^"]+)" title="([^"]+) UTC" data-local>', html)
    assert due and due.group(1).startswith(task.due_at.strftime("%Y-%m-%dT%H:%M"))
    assert html.index('data-testid="approval-summary"') < html.index('data-testid="approval-why"')
    assert re.search(r'data-testid="approval-tab-count">1<', html)


def test_approve_swaps_the_card_audits_and_resumes_the_run(client_for, deals, personas):
    task = deals()[0]
    response = client_for("approver").post(f"{INBOX}{task.pk}/decide/", {"outcome": "approve"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith("<article")
    assert 'data-status="approved"' in html and "Approved by you." in html
    assert 'id="approvals-badge" hx-swap-oob="true"' in html  # the navigation count follows
    task.refresh_from_db()
    assert (task.status, task.decided_by) == ("approved", personas["approver"])
    assert Run.objects.get(pk=task.run_id).status == "queued"
    assert AuditEntry.objects.get(action="approval.approve").actor == personas["approver"]


def test_reject_needs_a_comment_shown_at_the_field(client_for, deals, personas):
    task = deals()[0]
    approver = client_for("approver")
    refused = approver.post(f"{INBOX}{task.pk}/decide/", {"outcome": "reject", "comment": " "}, **HTMX)
    assert refused.status_code == 422  # swapped by htmx, with the error at the field
    assert 'data-testid="approval-comment-error"' in refused.content.decode()
    assert ApprovalTask.objects.get(pk=task.pk).status == "pending"
    without_js = approver.post(f"{INBOX}{task.pk}/decide/", {"outcome": "reject"})
    assert without_js.status_code == 400 and 'data-testid="approval-comment-error"' in without_js.content.decode()
    done = approver.post(f"{INBOX}{task.pk}/decide/", {"outcome": "reject", "comment": "over budget"})
    assert done.status_code == 302 and done["Location"] == f"{INBOX}?task={task.pk}"
    task.refresh_from_db()
    assert (task.status, task.comment) == ("rejected", "over budget")
    entry = AuditEntry.objects.get(action="approval.reject")
    assert entry.actor == personas["approver"] and entry.changes["comment"][1] == "over budget"


def test_deciding_twice_shows_the_decision_already_made(client_for, deals):
    task = deals()[0]
    client_for("admin").post(f"{INBOX}{task.pk}/decide/", {"outcome": "approve"})
    late = client_for("approver").post(f"{INBOX}{task.pk}/decide/", {"outcome": "reject", "comment": "no"}, **HTMX)
    html = late.content.decode()
    assert late.status_code == 200 and "already decided" in html and "Approved by admin" in html
    assert client_for("approver").post(f"{INBOX}{task.pk}/decide/", {"outcome": "approve"}).status_code == 409


def test_task_link_from_the_email_opens_that_card_decided_or_not(client_for, deals):
    first, second = deals(2)
    approver = client_for("approver")
    html = approver.get(INBOX, {"task": second.pk}).content.decode()
    focus = focus_of(html)
    assert cards(focus) == [str(second.pk)] and "data-focus" in focus
    assert cards(html).count(str(second.pk)) == 1  # not twice
    client_for("admin").post(f"{INBOX}{first.pk}/decide/", {"outcome": "approve"})
    decided = approver.get(INBOX, {"task": first.pk}).content.decode()
    assert 'data-status="approved"' in focus_of(decided) and 'data-testid="approve"' not in focus_of(decided)
    missing = approver.get(INBOX, {"task": 999})
    assert missing.status_code == 404 and 'data-testid="task-missing"' in missing.content.decode()
    bad = approver.get(INBOX, {"task": "abc"})
    assert bad.status_code == 400 and 'data-testid="inbox-error-task"' in bad.content.decode()


def test_an_approver_decides_only_what_is_theirs_or_their_groups(client_for, deals, personas):
    mine, other_group, someone_else = deals(3)
    ApprovalTask.objects.filter(pk=other_group.pk).update(group="delivery-leads")
    second_approver = make_user("carol", "Approver")
    ApprovalTask.objects.filter(pk=someone_else.pk).update(assignee=second_approver)
    approver = client_for("approver")
    html = approver.get(INBOX).content.decode()
    assert cards(html) == [str(mine.pk)]
    for task in (other_group, someone_else):
        opened = approver.get(INBOX, {"task": task.pk}).content.decode()
        assert "Who decides:" in focus_of(opened) and 'data-testid="approve"' not in focus_of(opened)
        response = approver.post(f"{INBOX}{task.pk}/decide/", {"outcome": "approve"})
        assert response.status_code == 403
        assert ApprovalTask.objects.get(pk=task.pk).status == "pending"
    assert "Waiting for carol." in approver.get(INBOX, {"task": someone_else.pk}).content.decode()
    # Joining the group makes the task theirs.
    personas["approver"].groups.add(Group.objects.create(name="delivery-leads"))
    assert client_for("approver").post(f"{INBOX}{other_group.pk}/decide/", {"outcome": "approve"}).status_code == 302


def test_roles_without_decide_see_pending_read_only_and_are_refused(client_for, deals):
    task = deals()[0]
    for role in ("viewer", "analyst", "operator"):
        client = client_for(role)
        html = client.get(INBOX).content.decode()
        assert cards(html) == [str(task.pk)] and "read-only" in html
        assert 'data-testid="approve"' not in html and 'data-testid="reassign-open"' not in html
        assert client.post(f"{INBOX}{task.pk}/decide/", {"outcome": "approve"}).status_code == 403
        assert client.post(f"{INBOX}{task.pk}/reassign/", {"assignee": "admin"}).status_code == 403
        assert client.post(INBOX, {"ids": [task.pk], "confirm": "1"}).status_code == 403
    assert ApprovalTask.objects.get(pk=task.pk).status == "pending"


def test_reassign_hands_the_card_over_audited_and_mailed(
    client_for, deals, personas, django_capture_on_commit_callbacks
):
    task = deals()[0]
    carol = make_user("carol", "Approver")
    approver = client_for("approver")
    bad = approver.post(f"{INBOX}{task.pk}/reassign/", {"assignee": "viewer"}, **HTMX)
    assert bad.status_code == 422 and 'data-testid="reassign-error"' in bad.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moved = approver.post(f"{INBOX}{task.pk}/reassign/", {"assignee": "carol"}, **HTMX)
    html = moved.content.decode()
    assert moved.status_code == 200 and "Reassigned to carol." in html and "Waiting for carol." in html
    assert 'data-testid="approve"' not in html  # no longer the approver's to decide
    assert ApprovalTask.objects.get(pk=task.pk).assignee == carol
    entry = AuditEntry.objects.get(action="approval.reassign")
    assert entry.actor == personas["approver"] and entry.changes == {"assignee": [None, "carol"]}
    assert [m.to for m in mail.outbox] == [[carol.email]] and "Reassigned to you" in mail.outbox[0].subject
    assert client_for("approver").post(f"{INBOX}{task.pk}/decide/", {"outcome": "approve"}).status_code == 403


def test_decided_by_me_and_submitted_by_me(client_for, deals, personas):
    first, second = deals(2)
    Run.objects.filter(pk=second.run_id).update(created_by=personas["analyst"])
    client_for("approver").post(f"{INBOX}{first.pk}/decide/", {"outcome": "approve"})
    assert cards(client_for("approver").get(INBOX, {"tab": "decided"}).content.decode()) == [str(first.pk)]
    assert cards(client_for("analyst").get(INBOX, {"tab": "submitted"}).content.decode()) == [str(second.pk)]
    empty = client_for("viewer").get(INBOX, {"tab": "decided"}).content.decode()
    assert 'data-testid="approvals-empty"' in empty
    assert client_for("viewer").get(INBOX, {"tab": "purple"}).status_code == 400


def test_bulk_approve_within_one_step_after_a_count_confirmation(client_for, deals, personas):
    tasks = deals(3)
    approver = client_for("approver")
    page = approver.get(INBOX).content.decode()
    assert 'data-testid="bulk-approve-form"' in page and page.count('data-testid="approval-select"') == 3
    ids = [t.pk for t in tasks[:2]]
    confirm = approver.post(INBOX, {"ids": ids})
    assert confirm.status_code == 200
    assert re.search(r"approving <strong>2</strong> approvals of step <code>big_deal</code>", confirm.content.decode())
    assert ApprovalTask.objects.filter(status="pending").count() == 3  # nothing decided yet
    done = approver.post(INBOX, {"ids": ids, "confirm": "1", "comment": "batch ok"})
    assert done.status_code == 302
    assert sorted(ApprovalTask.objects.filter(status="approved").values_list("pk", flat=True)) == ids
    assert AuditEntry.objects.filter(action="approval.approve", actor=personas["approver"]).count() == 2


def test_bulk_approve_refuses_two_steps(client_for, deals):
    flow = deal_flow()
    flow["steps"][1]["id"] = "second_look"
    flow["trigger"]["event"] = "deal.renewed"
    one = deals(1)[0]
    other = deals(1, key="deals-b", flow=flow)[0]
    response = client_for("approver").post(INBOX, {"ids": [one.pk, other.pk], "confirm": "1"})
    assert response.status_code == 400 and "only within one step" in response.content.decode()
    assert ApprovalTask.objects.filter(status="pending").count() == 2


def test_navigation_badge_counts_what_waits_for_me(client_for, deals):
    deals(2)
    page = client_for("approver").get("/").content.decode()
    assert 'hx-get="/approvals/count/" hx-trigger="load"' in page
    badge = client_for("approver").get("/approvals/count/").content.decode()
    assert "(2 waiting for you)" in badge
    assert "waiting" not in client_for("operator").get("/approvals/count/").content.decode()
    assert 'hx-get="/approvals/count/"' not in client_for("viewer").get("/").content.decode()


def test_the_inbox_costs_a_fixed_number_of_queries(client_for, deals, django_assert_max_num_queries):
    deals(55)
    approver = client_for("approver")
    approver.get(INBOX)
    with django_assert_max_num_queries(14):
        html = approver.get(INBOX).content.decode()
    assert len(cards(html)) == 25 and "Showing 1–25 of 55, due soonest first." in html
    assert 'data-testid="approval-tab-count">55<' in html  # the badge counts every page
    with django_assert_max_num_queries(14):
        last = approver.get(INBOX, {"page": "3"}).content.decode()
    assert len(cards(last)) == 5 and "Page 3 of 3" in last and 'data-testid="approvals-next"' not in last
    seen = set(cards(html)) | set(cards(approver.get(INBOX, {"page": "2"}).content.decode())) | set(cards(last))
    assert len(seen) == 55  # every task on exactly one page
    assert approver.get(INBOX, {"page": "x"}).status_code == 400
    assert "Showing 51–55 of 55" in approver.get(INBOX, {"page": "9"}).content.decode()  # past the end: the last
    with django_assert_max_num_queries(14):
        assert approver.get(INBOX, {"tab": "decided"}).status_code == 200


def test_named_approvers_see_their_tasks_and_only_theirs(client_for, deals, personas):
    both, carol_only, by_user, case = deals(4)
    ApprovalTask.objects.filter(pk=both.pk).update(approvers={"users": ["approver", "carol"]}, policy="all")
    ApprovalTask.objects.filter(pk=carol_only.pk).update(approvers={"users": ["carol", "approvers"]})
    ApprovalTask.objects.filter(pk=by_user.pk).update(approvers={"user": "approver"}, group="")
    ApprovalTask.objects.filter(pk=case.pk).update(group="APPROVER")  # group names match without case
    html = client_for("approver").get(INBOX).content.decode()
    assert sorted(cards(html)) == sorted(str(t.pk) for t in (both, by_user, case))
    assert "You are one of 2 named approvers; every one must approve." in html
    partly = client_for("approver").post(f"{INBOX}{both.pk}/decide/", {"outcome": "approve"}, **HTMX)
    assert "waiting for the other approvers" in partly.content.decode()
    assert ApprovalTask.objects.get(pk=both.pk).status == "pending"
