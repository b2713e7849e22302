"""Email to the people who can decide an approval task: when it opens, when it is escalated
past its due time, and when it is decided automatically at its due time.

One message per recipient (nobody sees the others' addresses), sent after the commit that
changed the task, through Django's mail API (settings: EMAIL_URL / EMAIL_*). The message
holds only what the approver sees in the inbox header — flow, step, title, due time and a
link — never the record being approved or anything from a connection. Each notification
is an audit entry naming the recipients by username."""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from integrations.approvals.models import ApprovalTask
from integrations.audit import services as audit

logger = logging.getLogger("integrations.approvals")

SUBJECTS = {
    "opened": "Approval needed: {title}",
    "escalated": "Escalated to you, past due: {title}",
    "expired": "Decided automatically, past due: {title}",
    "reassigned": "Reassigned to you: {title}",
}
LEADS = {
    "opened": "A run is waiting for your approval.",
    "escalated": "This approval passed its due time without a decision and was escalated to you.",
    "expired": "This approval passed its due time and was {status} automatically.",
    "reassigned": "An approver reassigned this approval to you.",
}


def notify_on_commit(task_id: int, reason: str) -> None:
    transaction.on_commit(lambda: notify(task_id, reason))


def notify(task_id: int, reason: str) -> list[str]:
    """Email the task's deciders; returns the usernames written to. Mail errors are logged
    and audited, never raised: a notification must not undo the decision it reports."""
    task = ApprovalTask.objects.select_related("run__flow_version__flow").filter(pk=task_id).first()
    if task is None:
        return []
    people = [u for u in recipients(task) if u.email]
    if not people:
        audit.record("system:approvals", "approval.notify", task, message=f"{reason}: nobody with an email address")
        return []
    subject = "[Switchboard] " + SUBJECTS[reason].format(title=_title(task))
    body = _body(task, reason)
    messages = [EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [u.email]) for u in people]
    names = [u.get_username() for u in people]
    try:
        get_connection(fail_silently=False).send_messages(messages)
    except Exception as exc:  # SMTP down, refused, timed out
        logger.warning("approval %s: %s notification not sent (%s)", task.pk, reason, type(exc).__name__)
        audit.record(
            "system:approvals", "approval.notify_failed", task, message=f"{reason}: not sent to {', '.join(names)}"
        )
        return []
    audit.record("system:approvals", "approval.notify", task, message=f"{reason}: emailed {', '.join(names)}")
    return names


def recipients(task: ApprovalTask) -> list:
    """Who may decide it now: the assignee; else the named users; else the group's members
    (the Admin group includes superusers). Active users only, by username."""
    users = get_user_model().objects.filter(is_active=True)
    if task.assignee_id:
        found = users.filter(pk=task.assignee_id)
    elif task.approvers.get("users") or task.approvers.get("user"):
        named = task.approvers.get("users") or [task.approvers["user"]]
        found = users.filter(username__in=named)
    elif task.group:
        in_group = Q(groups__name__iexact=task.group)
        found = users.filter(in_group | Q(is_superuser=True) if task.group.lower() == "admin" else in_group)
    else:
        return []
    return list(found.distinct().order_by("username"))


def _title(task: ApprovalTask) -> str:
    return (task.title or f"{task.run.flow_version.flow.name} / {task.step_id}").replace("\n", " ")[:150]


def _body(task: ApprovalTask, reason: str) -> str:
    origin = settings.SWITCHBOARD_PUBLIC_URL or settings.SWITCHBOARD_SANDBOX_ORIGIN  # the app's own, by default
    link = origin.rstrip("/") + reverse("approvals:inbox") + "?" + urlencode({"task": task.pk})
    lines = [
        LEADS[reason].format(status=task.status),
        "",
        f"Flow: {task.run.flow_version.flow.name}",
        f"Step: {task.step_id}",
        f"Title: {_title(task)}",
    ]
    if task.due_at:
        lines.append(f"Due: {task.due_at:%Y-%m-%d %H:%M} UTC")
    lines += ["", f"Open it: {link}", "", "You receive this because you can decide this approval in Switchboard."]
    return "\n".join(lines)
