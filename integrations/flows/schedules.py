"""Schedule and poll triggers as django-celery-beat periodic tasks, one per flow.

The cron of a schedule trigger starts from the published definition; `set_schedule` edits
it per flow afterwards (publishing again keeps the edited cron)."""

import json

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from integrations.audit import services as audit
from integrations.flows.choices import FlowStatus

SCHEDULE_TASK = "integrations.runs.tasks.start_scheduled_run"
POLL_TASK = "integrations.flows.tasks.poll_flow"


class ScheduleInvalid(ValueError):
    pass


def task_name(flow) -> str:
    return f"flow:{flow.key}"


def parse_cron(cron: str) -> dict:
    from integrations.engine.cron import cron_problem

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
