"""Schedule and poll triggers as django-celery-beat periodic tasks, one per flow, and the
schedule tick that starts a run.

The cron of a schedule trigger starts from the published definition; `set_schedule` edits
it per flow afterwards (publishing again keeps the edited cron). The flow's task is kept in
step when a version is published or the flow is paused or activated (flows/hooks.py)."""

import json

from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from integrations.audit import services as audit
from integrations.flows.choices import FlowStatus
from integrations.flows.engine_api import cron_problem
from integrations.flows.models import Flow
from integrations.runs.choices import Trigger
from integrations.runs.services import create_run

# Names of the Celery tasks in triggers/tasks.py, as stored in beat's rows.
SCHEDULE_TASK = "integrations.runs.tasks.start_scheduled_run"
POLL_TASK = "integrations.flows.tasks.poll_flow"


class ScheduleInvalid(ValueError):
    pass


def task_name(flow) -> str:
    return f"flow:{flow.key}"


def parse_cron(cron: str) -> dict:
    if problem := cron_problem(cron or ""):
        raise ScheduleInvalid(problem)
    parts = (cron or "").split()
    if len(parts) != 5:
        raise ScheduleInvalid("cron must have five fields: minute hour day-of-month month day-of-week")
    minute, hour, dom, month, dow = parts
    return {"minute": minute, "hour": hour, "day_of_month": dom, "month_of_year": month, "day_of_week": dow}


def _crontab(cron: str) -> CrontabSchedule:
    fields = parse_cron(cron)
    return CrontabSchedule.objects.get_or_create(**fields, timezone="UTC")[0]


def sync_flow(flow) -> PeriodicTask | None:
    """Create/enable/disable the flow's periodic task after publish or a status change."""
    live = flow.live_version
    trigger = (live.definition.get("trigger") or {}) if live else {}
    existing = PeriodicTask.objects.filter(name=task_name(flow)).first()
    kind = trigger.get("type")
    if kind not in ("schedule", "poll"):
        if existing:
            existing.enabled = False
            existing.save(update_fields=["enabled"])
        return existing
    task = existing or PeriodicTask(name=task_name(flow), args=json.dumps([flow.pk]))
    task.task = SCHEDULE_TASK if kind == "schedule" else POLL_TASK
    if not (task.crontab_id or task.interval_id):
        task.crontab = _crontab(trigger.get("cron", "0 * * * *"))
    task.enabled = flow.status == FlowStatus.ACTIVE
    task.save()
    return task


def on_flow_changed(flow, **_) -> None:
    """flows/hooks.py: a version was published or the flow paused/activated."""
    sync_flow(flow)


@transaction.atomic
def set_schedule(flow, user, cron: str) -> PeriodicTask:
    """Edit the cron of a flow's schedule (or poll) trigger."""
    task = PeriodicTask.objects.filter(name=task_name(flow)).first()
    if task is None:
        raise ScheduleInvalid("the flow's published trigger is not a schedule or poll")
    before = str(task.crontab) if task.crontab_id else f"every {task.interval}"
    task.crontab, task.interval = _crontab(cron), None
    task.save()
    audit.record(user, "flow.schedule.update", flow, changes={"cron": [before, cron]})
    return task


def start_scheduled(flow_id: int):
    """One run per tick; the record is the trigger's payload plus the tick time."""
    flow = Flow.objects.filter(pk=flow_id, status=FlowStatus.ACTIVE).first()
    version = flow.live_version if flow else None
    if version is None:
        return None
    now = timezone.now()
    payload = (version.definition.get("trigger") or {}).get("payload") or {}
    return create_run(
        version,
        trigger=Trigger.SCHEDULE,
        record={**payload, "scheduled_at": now.isoformat()},
        business_key=f"tick:{now:%Y-%m-%dT%H:%M}",
    )
