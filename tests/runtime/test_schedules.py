"""Schedule triggers: a django-celery-beat task per flow, enabled while the flow is active,
its cron editable per flow (audited); each tick queues one run."""

import json

import pytest
from django_celery_beat.models import PeriodicTask

from integrations.audit.models import AuditEntry
from integrations.flows.services import set_status
from integrations.triggers.schedules import ScheduleInvalid, set_schedule, start_scheduled
from tests.runtime.conftest import publish_flow

pytestmark = pytest.mark.django_db

NIGHTLY = {
    "trigger": {"type": "schedule", "cron": "30 2 * * *", "payload": {"scope": "unbilled"}},
    "steps": [{"id": "shape", "type": "map", "fields": [{"to": "scope", "from": "$.scope"}]}],
}


@pytest.fixture
def nightly(personas, doorbells):
    return publish_flow(personas["analyst"], NIGHTLY, key="nightly")


def test_publishing_a_schedule_flow_creates_its_periodic_task(nightly):
    task = PeriodicTask.objects.get(name="flow:nightly")
    assert task.enabled and task.task == "integrations.runs.tasks.start_scheduled_run"
    assert json.loads(task.args) == [nightly.pk]
    assert (task.crontab.minute, task.crontab.hour) == ("30", "2")


def test_pausing_disables_it_and_the_cron_is_editable(nightly, personas):
    set_status(nightly, personas["analyst"], "paused")
    assert PeriodicTask.objects.get(name="flow:nightly").enabled is False
    assert start_scheduled(nightly.pk) is None  # a stray tick of a paused flow runs nothing
    set_schedule(nightly, personas["analyst"], "0 6 * * 1-5")
    task = PeriodicTask.objects.get(name="flow:nightly")
    assert (task.crontab.hour, task.crontab.day_of_week) == ("6", "1-5")
    assert AuditEntry.objects.filter(action="flow.schedule.update").exists()
    for bad in ("every day", "99 * * * *"):
        with pytest.raises(ScheduleInvalid):
            set_schedule(nightly, personas["analyst"], bad)


def test_a_tick_queues_one_run_with_the_trigger_payload(nightly):
    run = start_scheduled(nightly.pk)
    assert run.trigger == "schedule" and run.status == "queued"
    assert run.input["scope"] == "unbilled" and "scheduled_at" in run.input
