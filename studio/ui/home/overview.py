"""The numbers on the overview: what is waiting for people right now, each a link to the
list behind it, filtered so that the list shows exactly the rows counted. Reads only; counts
are cheap (indexed status and time columns)."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from integrations.approvals.choices import ApprovalStatus
from integrations.approvals.models import ApprovalTask
from integrations.connections.models import Connection
from integrations.runs.choices import ExceptionStatus, RunStatus
from integrations.runs.models import RunException
from studio.permissions import can
from studio.ui.day_range import within_days
from studio.ui.runs import history


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    count: int
    url: str
    alert: bool  # a non-zero count that needs someone


def _link(url_name: str, **filters) -> str:
    return f"{reverse(url_name)}?{urlencode(filters)}" if filters else reverse(url_name)


def at_a_glance(user) -> list[Tile]:
    if not can(user, "view_studio"):
        return []
    # "Today" in the viewer's time zone: the run list's date filter is by whole days, so the
    # tile and the list it opens count the same runs.
    today = timezone.localdate()
    runs = within_days(history.runs(), "created_at", today, None)
    counts = [
        (
            "exceptions",
            "Open exceptions",
            # The queue's Open tab: open or assigned (retrying ones have their own tab).
            RunException.objects.filter(status__in=(ExceptionStatus.OPEN, ExceptionStatus.ASSIGNED)).count(),
            _link("exceptions:list"),
            True,
        ),
        (
            "approvals",
            "Approvals waiting",
            ApprovalTask.objects.filter(status=ApprovalStatus.PENDING).count(),
            _link("approvals:inbox"),
            True,
        ),
        ("runs", "Runs today", runs.count(), _link("runs:list", since=today.isoformat()), False),
        (
            "failed",
            "Failed runs today",
            runs.filter(status=RunStatus.FAILED).count(),
            _link("runs:list", status=RunStatus.FAILED, since=today.isoformat()),
            True,
        ),
        (
            "paused",
            "Paused connections",
            Connection.objects.filter(paused=True).count(),
            _link("connections:list"),
            True,
        ),
    ]
    return [Tile(key, label, n, url, alert and n > 0) for key, label, n, url, alert in counts]
