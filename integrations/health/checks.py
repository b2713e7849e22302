"""What /healthz reports: database, broker and worker heartbeat, each {"ok": bool, ...}."""

import os
import time
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from integrations.health.models import Heartbeat
from integrations.health.services import WORKER

WORKER_FRESH_SECONDS = 60  # four missed 15-second beats


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


def report() -> tuple[bool, dict]:
    parts = {"database": database(), "broker": broker(), "worker": worker()}
    down = [name for name, part in parts.items() if not part["ok"]]
    return not down, {"status": "down" if down else "ok", "down": down, **parts}
