"""Approval tasks for a generated history (manage.py load_volume): a pending task for every
run waiting for approval, and decided ones on older succeeded runs, so the approver's inbox
and its "decided by me" tab are measured over realistic numbers."""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from integrations.approvals.choices import ApprovalStatus
from integrations.approvals.models import ApprovalTask
from integrations.runs.choices import RunStatus
from integrations.runs.models import Run

APPROVER = "vol-approver"  # the person the decided tasks name; real users are never touched
GROUP = "delivery-leads"
BATCH = 5_000


def _task(run_id: int, key: str, created, status: str, approver, rng: random.Random) -> ApprovalTask:
    hours = round(rng.uniform(10, 400), 1)
    decided = status != ApprovalStatus.PENDING
    return ApprovalTask(
        run_id=run_id,
        step_id="approve",
        group=GROUP,
        approvers={},  # open to the members of `group`
        title=f"Project {key}: {hours} h to bill",
        record={"ref": key, "client": rng.choice(("Acme Corp", "Globex", "Initech")), "hours": hours},
        status=status,
        due_at=created + timedelta(days=2),
        decided_by=approver if decided else None,
        decided_at=created + timedelta(hours=rng.randint(1, 40)) if decided else None,
        comment="rate not agreed" if status == ApprovalStatus.REJECTED else "",
    )


def load(decided: int, seed: int = 12) -> tuple[int, int]:
    """(pending, decided) tasks written; runs that already have a task are left alone."""
    rng = random.Random(seed)
    approver, _ = get_user_model().objects.get_or_create(username=APPROVER)
    approver.groups.add(Group.objects.get_or_create(name=GROUP)[0])  # the tasks are open to this group
    have = ApprovalTask.objects.values("run_id")
    waiting = Run.objects.filter(status=RunStatus.WAITING_APPROVAL).exclude(pk__in=have)
    older = (
        Run.objects.filter(status=RunStatus.SUCCEEDED, created_at__lt=timezone.now() - timedelta(days=2))
        .exclude(pk__in=have)
        .order_by("-created_at")[:decided]
    )
    tasks = [
        _task(pk, key, at, ApprovalStatus.PENDING, approver, rng)
        for pk, key, at in waiting.values_list("pk", "business_key", "created_at")
    ]
    pending = len(tasks)
    for pk, key, at in older.values_list("pk", "business_key", "created_at"):
        status = ApprovalStatus.REJECTED if rng.random() < 0.1 else ApprovalStatus.APPROVED
        tasks.append(_task(pk, key, at, status, approver, rng))
    with transaction.atomic():
        ApprovalTask.objects.bulk_create(tasks, batch_size=BATCH)
    return pending, len(tasks) - pending
