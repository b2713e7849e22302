"""Approval tasks: opened by the engine's approve step, decided by people or by expiry."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations import durability
from integrations.approvals.choices import ApprovalStatus, OnExpiry
from integrations.approvals.hooks import approval_decided
from integrations.approvals.models import ApprovalTask
from integrations.approvals.notify import notify_on_commit
from integrations.audit import services as audit

EXPIRY = {"escalate": OnExpiry.ESCALATE, "auto-reject": OnExpiry.REJECT, "auto-approve": OnExpiry.APPROVE}


class DecisionInvalid(ValueError):
    def __init__(self, field: str, message: str, *, forbidden: bool = False):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.forbidden = field, message, forbidden


def open_task(run, request) -> ApprovalTask:
    """Find or open the task for (run, step); the engine asks again on every resume."""
    approvers = request.approvers or {}
    assignee = None
    if approvers.get("user"):
        assignee = get_user_model().objects.filter(username=approvers["user"]).first()
    # Durable: its e-mail goes out after this commit and must not name a task a crash forgets.
    with durability.durable():
        task, created = _find_or_open(run, request, approvers, assignee)
    if created:
        notify_on_commit(task.pk, "opened")
    return task


def _find_or_open(run, request, approvers: dict, assignee) -> tuple[ApprovalTask, bool]:
    return ApprovalTask.objects.get_or_create(
        run=run,
        step_id=request.step_id,
        defaults={
            "group": approvers.get("group", ""),
            "assignee": assignee,
            "approvers": approvers,
            "policy": request.policy if request.policy in ("any", "all") else "any",
            "title": request.summary[:200],
            "record": request.record,
            "on_expiry": EXPIRY.get(request.on_expiry, OnExpiry.ESCALATE),
            "due_at": timezone.now() + timedelta(hours=request.sla_hours) if request.sla_hours else None,
        },
    )


def may_decide(task: ApprovalTask, user, groups: set[str] | None = None) -> bool:
    """Deciders: the assignee; else members of the group or the listed users; Admins always."""
    if not user.has_perm("accounts.decide_approvals"):
        return False
    if groups is None:
        groups = group_names(user)
    if user.is_superuser or "admin" in groups:
        return True
    if task.assignee_id:
        return task.assignee_id == user.pk
    named = task.approvers.get("users") or ([task.approvers["user"]] if task.approvers.get("user") else [])
    if named:
        return user.get_username() in named
    return not task.group or task.group.lower() in groups


def group_names(user) -> set[str]:
    return {g.lower() for g in user.groups.values_list("name", flat=True)}


def inbox(user):
    """Pending tasks the user may decide, oldest due first."""
    pending = ApprovalTask.objects.filter(status=ApprovalStatus.PENDING).select_related("run__flow_version__flow")
    groups = group_names(user)
    candidates = _may_be_theirs(pending.select_related(None), user, groups).only("assignee", "approvers", "group")
    ids = [t.pk for t in candidates if may_decide(t, user, groups)]
    return pending.filter(pk__in=ids)


def _may_be_theirs(pending, user, groups: set[str]):
    """A superset of the tasks `may_decide` grants, narrowed in SQL so a long queue of other
    people's approvals is not read row by row; may_decide stays the exact rule."""
    if not user.has_perm("accounts.decide_approvals"):
        return pending.none()
    if user.is_superuser or "admin" in groups:
        return pending
    name = user.get_username()
    open_to = Q(group="")
    for group in groups:
        open_to |= Q(group__iexact=group)
    named = Q(approvers__user__iexact=name) | Q(approvers__users__icontains=f'"{name}"')
    return pending.filter(Q(assignee=user) | Q(assignee__isnull=True) & (named | open_to))


def reassign(task: ApprovalTask, user, assignee_username: str) -> ApprovalTask:
    """A decider hands a pending task to one person who may decide approvals; audited, and
    the new assignee is emailed."""
    if not may_decide(task, user):
        raise DecisionInvalid("user", "you are not an approver of this task", forbidden=True)
    assignee = get_user_model().objects.filter(username=assignee_username or "", is_active=True).first()
    if assignee is None or not assignee.has_perm("accounts.decide_approvals"):
        raise DecisionInvalid("assignee", f"'{assignee_username}' is not a user who can decide approvals")
    with transaction.atomic():
        task = ApprovalTask.objects.select_for_update().get(pk=task.pk)
        if task.status != ApprovalStatus.PENDING:
            raise DecisionInvalid("status", "this approval was already decided")
        before = task.assignee.get_username() if task.assignee_id else None
        task.assignee = assignee
        task.save(update_fields=["assignee"])
        audit.record(user, "approval.reassign", task, changes={"assignee": [before, assignee.get_username()]})
        notify_on_commit(task.pk, "reassigned")
    return task


def decide(task: ApprovalTask, user, outcome: str, comment: str = "") -> ApprovalTask:
    """approve or reject (a rejection needs a comment); the waiting run resumes."""
    if outcome not in ("approved", "rejected"):
        raise DecisionInvalid("outcome", "must be 'approved' or 'rejected'")
    if outcome == "rejected" and not (comment or "").strip():
        raise DecisionInvalid("comment", "a rejection needs a comment saying why")
    if not may_decide(task, user):
        raise DecisionInvalid("user", "you are not an approver of this task", forbidden=True)
    if outcome == ApprovalStatus.APPROVED and _needs_more(task, user):
        return _approve_partly(task, user, comment)
    with transaction.atomic():
        decided = ApprovalTask.objects.filter(pk=task.pk, status=ApprovalStatus.PENDING).update(
            status=outcome, decided_by=user, decided_at=timezone.now(), comment=comment or ""
        )
        if not decided:
            raise DecisionInvalid("status", "this approval was already decided")
        task.refresh_from_db()
        verb = "approve" if outcome == ApprovalStatus.APPROVED else "reject"
        audit.record(user, f"approval.{verb}", task, after={"status": outcome, "comment": comment}, message=task.title)
        approval_decided.send(task=task)
    return task


def _needs_more(task: ApprovalTask, user) -> bool:
    """Policy "all": the task is decided only when every listed user has approved."""
    users = task.approvers.get("users") or []
    if task.policy != "all" or not users:
        return False
    done = {a["by"] for a in task.approvals_so_far} | {user.get_username()}
    return not set(users) <= done


def _approve_partly(task: ApprovalTask, user, comment: str) -> ApprovalTask:
    with transaction.atomic():
        task = ApprovalTask.objects.select_for_update().get(pk=task.pk)
        if task.status != ApprovalStatus.PENDING:
            raise DecisionInvalid("status", "this approval was already decided")
        if any(a["by"] == user.get_username() for a in task.approvals_so_far):
            raise DecisionInvalid("user", "you have already approved; waiting for the other approvers")
        entry = {"by": user.get_username(), "at": timezone.now().isoformat(), "comment": comment or ""}
        task.approvals_so_far = [*task.approvals_so_far, entry]
        task.save(update_fields=["approvals_so_far"])
        waiting = sorted(set(task.approvers["users"]) - {a["by"] for a in task.approvals_so_far})
        audit.record(user, "approval.approve_partly", task, message=f"still waiting for {', '.join(waiting)}")
    return task


def expire_due(now=None) -> int:
    """Periodic: tasks past due are auto-approved, auto-rejected or escalated (once)."""
    now = now or timezone.now()
    count = 0
    due = ApprovalTask.objects.filter(status=ApprovalStatus.PENDING, due_at__lte=now)
    for task in due.exclude(on_expiry=OnExpiry.ESCALATE, escalated_at__isnull=False):
        count += _expire(task, now)
    return count


def _expire(task: ApprovalTask, now) -> int:
    with transaction.atomic():
        if task.on_expiry == OnExpiry.ESCALATE:
            done = ApprovalTask.objects.filter(
                pk=task.pk, status=ApprovalStatus.PENDING, escalated_at__isnull=True
            ).update(escalated_at=now, assignee=None, group="Admin")
            if done:
                audit.record("system:approvals", "approval.escalate", task, message="past due; escalated to Admin")
                notify_on_commit(task.pk, "escalated")
            return done
        outcome = ApprovalStatus.APPROVED if task.on_expiry == OnExpiry.APPROVE else ApprovalStatus.REJECTED
        comment = (
            f"auto-{'approved' if outcome == 'approved' else 'rejected'}: past due at {task.due_at:%Y-%m-%d %H:%M} UTC"
        )
        done = ApprovalTask.objects.filter(pk=task.pk, status=ApprovalStatus.PENDING).update(
            status=outcome, decided_at=now, comment=comment
        )
        if done:
            audit.record(
                "system:approvals",
                f"approval.auto_{'approve' if outcome == 'approved' else 'reject'}",
                task,
                message=comment,
            )
            notify_on_commit(task.pk, "expired")
            approval_decided.send(task=task)
        return done
