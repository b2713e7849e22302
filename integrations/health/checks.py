"""What /healthz reports: database, broker and worker heartbeat, each {"ok": bool, ...};
and warnings that do not make the service down but need an operator (messages the broker
redelivered while their rows were still leased)."""

import os
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from integrations.health.models import Heartbeat, Redelivery
from integrations.health.services import WORKER

WORKER_FRESH_SECONDS = 60  # four missed 15-second beats
# A message redelivered while its row is leased happens once when a worker is killed (the
# broker requeues its task); this many within the window means a misconfiguration.
REDELIVERY_ALARM_COUNT = 3
REDELIVERY_WINDOW = timedelta(minutes=15)


def database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "down"; the reason is reported
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def broker() -> dict:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        return _filesystem_broker(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    return _redis_broker(url)


def _filesystem_broker(options: dict) -> dict:
    folders = {options.get("data_folder_in"), options.get("data_folder_out"), options.get("processed_folder")}
    bad = sorted(f for f in folders if f and not (os.path.isdir(f) and os.access(f, os.W_OK)))
    if bad:
        return {"ok": False, "transport": "filesystem", "error": f"not writable: {', '.join(bad)}"}
    return {"ok": True, "transport": "filesystem"}


def _redis_broker(url: str) -> dict:
    import redis

    started = time.monotonic()
    try:
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return {"ok": False, "transport": "redis", "error": type(exc).__name__}
    return {"ok": True, "transport": "redis", "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def worker(now: datetime | None = None) -> dict:
    now = now or timezone.now()
    try:
        beat = Heartbeat.objects.filter(name=WORKER).first()
    except Exception as exc:  # database down: reported by database(); the worker is unknown
        return {"ok": False, "last_heartbeat": None, "age_seconds": None, "error": type(exc).__name__}
    if beat is None:
        return {"ok": False, "last_heartbeat": None, "age_seconds": None, "error": "no heartbeat yet"}
    age = round((now - beat.beat_at).total_seconds(), 1)
    report = {"ok": age < WORKER_FRESH_SECONDS, "last_heartbeat": beat.beat_at.isoformat(), "age_seconds": age}
    if not report["ok"]:
        report["error"] = f"last heartbeat {age:.0f} s ago (limit {WORKER_FRESH_SECONDS} s)"
    return report


def redeliveries(now: datetime | None = None) -> dict:
    """Messages redelivered while their row was leased, over the last REDELIVERY_WINDOW;
    `ok` is false from REDELIVERY_ALARM_COUNT on, with what to check."""
    since = (now or timezone.now()) - REDELIVERY_WINDOW
    window_minutes = int(REDELIVERY_WINDOW.total_seconds() // 60)
    try:
        recent = Redelivery.objects.filter(at__gte=since)
        count = recent.count()
        held = recent.aggregate(least=Min("held_seconds"), most=Max("held_seconds")) if count else {}
    except Exception as exc:  # database down: reported by database()
        return {"ok": True, "count": None, "window_minutes": window_minutes, "error": type(exc).__name__}
    report = {"ok": count < REDELIVERY_ALARM_COUNT, "count": count, "window_minutes": window_minutes}
    if not report["ok"]:
        least, most = round(held["least"]), round(held["most"])
        report["held_seconds"] = [least, most]
        report["warning"] = (
            f"{count} task messages came back from the broker in {window_minutes} min while their run, chunk "
            f"or delivery was still leased by a running task (claimed {least}-{most} s before). The broker's "
            f"visibility timeout is probably shorter than the tasks it covers: check that "
            f"SWITCHBOARD_VISIBILITY_TIMEOUT ({settings.CELERY_VISIBILITY_TIMEOUT} s here) is above "
            f"SWITCHBOARD_LEASE_SECONDS ({settings.SWITCHBOARD_LEASE_SECONDS} s) and the task time limit, and "
            f"that no other application on the same Redis sets a shorter visibility_timeout (the shortest "
            f"wins). Workers killed mid-task cause a few of these too."
        )
    return report


def report() -> tuple[bool, dict]:
    """(healthy, body): down when the database, broker or worker is; a warning (still 200)
    names what needs an operator without stopping the service."""
    parts = {"database": database(), "broker": broker(), "worker": worker()}
    down = [name for name, part in parts.items() if not part["ok"]]
    warnings = {"redeliveries": redeliveries()}
    warned = [name for name, part in warnings.items() if not part["ok"]]
    status = "down" if down else "warning" if warned else "ok"
    return not down, {"status": status, "down": down, "warnings": warned, **parts, **warnings}
