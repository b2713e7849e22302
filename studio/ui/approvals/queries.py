"""What the approvals inbox reads: a tab's tasks, one task, the people work can be handed to,
and the count for the navigation badge. A fixed number of queries per page."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from integrations.approvals import services as approvals
from integrations.approvals.choices import ApprovalStatus
from integrations.approvals.models import ApprovalTask
from studio.permissions import can
from studio.ui import keyset

PAGE_SIZE = 50
PENDING_SHOWN = 50
RELATED = ("run__flow_version__flow", "assignee", "decided_by")


def pending(user):
    """What the user may decide; someone who decides nothing sees every pending task, read-only."""
    if can(user, "decide_approvals"):
        return approvals.inbox(user).select_related(*RELATED)
    return ApprovalTask.objects.filter(status=ApprovalStatus.PENDING).select_related(*RELATED)


def decided_by(user, cursor):
    tasks = ApprovalTask.objects.filter(decided_by=user).select_related(*RELATED)
    return keyset.paginate(tasks, cursor, PAGE_SIZE, field="decided_at")


def submitted_by(user, cursor):
    """Approvals of runs the user started (by hand, from the studio or the API)."""
    tasks = ApprovalTask.objects.filter(run__created_by=user).select_related(*RELATED)
    return keyset.paginate(tasks, cursor, PAGE_SIZE, field="created_at")


def one(pk: int) -> ApprovalTask | None:
    return ApprovalTask.objects.select_related(*RELATED).filter(pk=pk).first()


def deciders() -> list[str]:
    """Usernames of active people who may decide approvals (the reassign choices)."""
    allowed = Q(is_superuser=True) | Q(groups__permissions__codename="decide_approvals")
    allowed |= Q(user_permissions__codename="decide_approvals")
    users = get_user_model().objects.filter(allowed, is_active=True).order_by("username")
    return list(users.values_list("username", flat=True).distinct())


def waiting_count(user) -> int:
    """The navigation badge: pending tasks this user may decide."""
    if not can(user, "decide_approvals"):
        return 0
    return approvals.inbox(user).count()
