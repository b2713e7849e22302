"""The run history's rows: one keyset page of runs with only the columns the table shows
(a run's input, state and output can be megabytes; none of them is read here), and which
of the page's waiting runs are held by their connection."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from integrations.deliveries.choices import DUE_STATES
from integrations.deliveries.holds import held_connection_ids
from integrations.deliveries.models import Delivery
from integrations.runs.choices import RunStatus
from integrations.runs.models import Run
from studio.ui import keyset
from studio.ui.runs import statuses

PAGE_SIZE = 50
LIST_COLUMNS = (
    "id",
    "trigger",
    "status",
    "business_key",
    "created_at",
    "started_at",
    "finished_at",
    "retry_of_id",
    "error",
    "flow_version__id",
    "flow_version__number",
    "flow_version__flow__id",
    "flow_version__flow__key",
    "flow_version__flow__name",
)


@dataclass
class Row:
    run: Run
    status: statuses.Shown
    duration: str
    failed_step: str


def runs():
    return Run.objects.select_related("flow_version__flow").only(*LIST_COLUMNS)


def page(queryset, cursor: str | None, size: int = PAGE_SIZE) -> tuple[list[Row], str | None]:
    found = keyset.paginate(queryset, cursor, size, field="created_at")
    held = held_runs([r.pk for r in found.rows if r.status == RunStatus.WAITING_DELIVERY])
    now = timezone.now()
    return [row(run, run.pk in held, now) for run in found.rows], found.next_cursor


def row(run: Run, held: bool, now: datetime) -> Row:
    failed = (run.error or {}).get("step_id") or "" if run.status == RunStatus.FAILED else ""
    return Row(run, statuses.run_status(run.status, held), duration(run, now), failed)


def held_runs(run_ids: list[int]) -> set[int]:
    """Of these waiting runs, those with a due delivery to a connection on hold now."""
    if not run_ids:
        return set()
    held = held_connection_ids()
    if not held:
        return set()
    due = Delivery.objects.filter(run_id__in=run_ids, state__in=DUE_STATES, connection_id__in=held)
    return set(due.values_list("run_id", flat=True))


def duration(run: Run, now: datetime) -> str:
    start = run.started_at
    if start is None:
        return ""
    return human_duration((run.finished_at or now) - start)


def human_duration(span: timedelta) -> str:
    ms = span.total_seconds() * 1000
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} d {hours % 24} h"
