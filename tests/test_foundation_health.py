"""/healthz and the periodic-task registry behind the worker heartbeat."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from integrations.health import schedules
from integrations.health.models import Heartbeat
from integrations.health.tasks import heartbeat


def test_down_without_a_worker_heartbeat(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["worker"] and body["worker"]["last_heartbeat"] is None
    assert body["database"]["ok"] and body["broker"]["ok"]


def test_up_after_a_heartbeat_without_login(client, db):
    heartbeat.apply()  # what the worker runs when beat sends it
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok" and body["worker"]["age_seconds"] < 5


def test_stale_heartbeat_counts_as_down(client, db):
    Heartbeat.objects.create(name="worker", beat_at=timezone.now() - timedelta(seconds=90))
    body = client.get("/healthz").json()
    assert body["down"] == ["worker"] and "90 s ago" in body["worker"]["error"]


def test_unwritable_filesystem_broker_is_named(client, db, settings, tmp_path):
    heartbeat.apply()
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "missing")}
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["down"] == ["broker"]


def test_unreachable_redis_is_named(client, db, settings):
    heartbeat.apply()
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    body = client.get("/healthz").json()
    assert body["down"] == ["broker"] and body["broker"]["transport"] == "redis"


@pytest.mark.redis
def test_real_redis_broker_is_up(client, db, settings):
    import os

    heartbeat.apply()
    settings.CELERY_BROKER_URL = os.environ["REDIS_URL"]
    broker = client.get("/healthz").json()["broker"]
    assert broker["ok"] and broker["transport"] == "redis"


def test_sync_schedules_is_idempotent_and_retires_stale_rows(db):
    call_command("sync_schedules", verbosity=0)
    row = PeriodicTask.objects.get(name="worker heartbeat")
    assert row.enabled and row.task == "integrations.health.tasks.heartbeat" and row.interval.every == 15
    assert schedules.sync()["created"] == []  # second run changes nothing

    schedules.sync([schedules.Periodic("old job", "integrations.health.tasks.heartbeat", 30)])
    assert not PeriodicTask.objects.get(name="worker heartbeat").enabled
    foreign = PeriodicTask.objects.create(name="flow cron", task="x.y", interval=row.interval)
    report = schedules.sync()
    assert report["disabled"] == ["old job"] and "worker heartbeat" in report["updated"]
    foreign.refresh_from_db()
    assert foreign.enabled  # rows made elsewhere (per-flow schedules) are left alone
