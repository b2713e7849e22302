"""The numbers on the overview: what is waiting for people right now, each a link to the
list behind it. Reads only; counts are cheap (indexed status and time columns)."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from integrations.approvals.choices import ApprovalStatus
from integrations.approvals.models import ApprovalTask
from integrations.connections.models import Connection
from integrations.runs.choices import ACTIVE_EXCEPTION, RunStatus
from integrations.runs.models import Run, RunException
from studio.permissions import can


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    count: int
    url_name: str
    alert: bool  # a non-zero count that needs someone


def at_a_glance(user) -> list[Tile]:
    if not can(user, "view_studio"):
        return []
    day_ago = timezone.now() - timedelta(hours=24)
    runs = Run.objects.filter(created_at__gte=day_ago, is_test=False)
    counts = [
        (
            "exceptions",
            "Open exceptions",
            RunException.objects.filter(status__in=ACTIVE_EXCEPTION).count(),
            "exceptions:list",
            True,
        ),
        (
            "approvals",
            "Approvals waiting",
            ApprovalTask.objects.filter(status=ApprovalStatus.PENDING).count(),
            "approvals:inbox",
            True,
        ),
        ("runs", "Runs in the last 24 h", runs.count(), "runs:list", False),
        ("failed", "Failed runs in the last 24 h", runs.filter(status=RunStatus.FAILED).count(), "runs:list", True),
        ("paused", "Paused connections", Connection.objects.filter(paused=True).count(), "connections:list", True),
    ]
    return [Tile(key, label, n, url, alert and n > 0) for key, label, n, url, alert in counts]
