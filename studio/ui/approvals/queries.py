"""What the approvals inbox reads: a tab's tasks, one task, the people work can be handed to,
and the count for the navigation badge. A fixed number of queries per page."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from integrations.approvals import services as approvals
from integrations.approvals.choices import ApprovalStatus
from integrations.approvals.models import ApprovalTask
from studio.permissions import can
from studio.ui import keyset

PAGE_SIZE = 25  # cards per page, on every tab
RELATED = ("run__flow_version__flow", "assignee", "decided_by")


def pending(user):
    """What the user may decide; someone who decides nothing sees every pending task, read-only."""
    if can(user, "decide_approvals"):
        return approvals.inbox(user).select_related(*RELATED)
    return ApprovalTask.objects.filter(status=ApprovalStatus.PENDING).select_related(*RELATED)


def pending_page(user, number: int) -> tuple[list[ApprovalTask], int, int]:
    """(the tasks of page `number`, counted from 1, in due order; all pending tasks shown to
    the user; the page shown: a page past the end shows the last one)."""
    tasks = pending(user)
    total = tasks.count()
    number = min(number, max(1, -(-total // PAGE_SIZE)))
    start = (number - 1) * PAGE_SIZE
    return list(tasks[start : start + PAGE_SIZE]), total, number


def decided_by(user, cursor):
    return _narrow_page(ApprovalTask.objects.filter(decided_by=user), cursor, "decided_at")


def submitted_by(user, cursor):
    """Approvals of runs the user started (by hand, from the studio or the API)."""
    return _narrow_page(ApprovalTask.objects.filter(run__created_by=user), cursor, "created_at")


def _narrow_page(tasks, cursor, field: str) -> keyset.Page:
    """One keyset page found over two columns, then its rows read whole: sorting a person's
    thousands of decided tasks with their records and joins would dominate the page."""
    found = keyset.paginate(tasks.only("id", field), cursor, PAGE_SIZE, field=field)
    whole = {t.pk: t for t in ApprovalTask.objects.filter(pk__in=[t.pk for t in found.rows]).select_related(*RELATED)}
    return keyset.Page([whole[t.pk] for t in found.rows], found.next_cursor)


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
