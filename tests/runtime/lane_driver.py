"""Driver for tests/runtime/test_lanes.py, run as a subprocess against the same database and
broker as a real worker (the test's own process sits on pytest-django's test database).

    python tests/runtime/lane_driver.py backlog N   # a flow, and N poll runs queued behind each other
    python tests/runtime/lane_driver.py probe S     # post an event and beat the heartbeat for S seconds

`probe` prints one JSON line: when the event's run ended and the first heartbeat landed
(seconds after they were sent), how many poll runs were still queued then, /healthz's
answers while the backlog lasted, and how long the probe ran under it (it stops when the
backlog drains)."""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings_test")

import django
from django.apps import apps

if not apps.ready:  # run as a script (the test module imports FLOW from here too)
    django.setup()

from django.db import transaction
from django.test import Client
from django.utils import timezone

from integrations.connections.models import Connection
from integrations.events.services import ingest_event
from integrations.flows.models import Flow
from integrations.flows.services import create_flow, publish
from integrations.health.models import Heartbeat
from integrations.runs.choices import TERMINAL, RunStatus, Trigger
from integrations.runs.models import Run
from integrations.runs.services import create_run
from studio.celery import app

HEARTBEAT = "integrations.health.tasks.heartbeat"
FLOW = {
    "trigger": {"type": "event", "connection": "crm", "event": "invoice.approved"},
    "steps": [
        {
            "id": "shape",
            "type": "map",
            "fields": [
                {"to": "external_ref", "from": "$.id", "required": True},
                {"to": "amount", "from": "$.amount", "required": True},
            ],
        }
    ],
}


def backlog(count: int) -> None:
    Connection.objects.create(name="crm", kind="generic_webhook", base_url="https://crm.example.com")
    flow = create_flow("system:test", key="invoices", name="Invoices", definition=FLOW)
    version = publish(flow, "system:test")
    with transaction.atomic():  # the doorbells ring after this commit, in creation order
        for i in range(count):
            create_run(version, trigger=Trigger.POLL, record={"id": f"p{i}", "amount": i})
    print(json.dumps({"queued": count}))


def probe(seconds: float) -> None:
    version = Flow.objects.get(key="invoices").live_version
    polled = Run.objects.filter(flow_version=version, trigger=Trigger.POLL)
    # Wait until the worker is into the backlog, so the event arrives behind thousands of messages.
    deadline = time.monotonic() + 60
    while not polled.filter(status__in=TERMINAL).exists():
        if time.monotonic() > deadline:
            raise SystemExit("the worker finished no poll run within 60 s")
        time.sleep(0.1)
    started = time.monotonic()
    sent_at = timezone.now()
    event_run = ingest_event(
        source="crm", type="invoice.approved", external_id="e-1", payload={"id": "e-1", "amount": 5}
    ).runs[0]
    app.send_task(HEARTBEAT)
    result = {"event_seconds": None, "heartbeat_seconds": None, "healthz": [], "heartbeats_sent": 1}
    client, next_beat = Client(HTTP_HOST="localhost"), started + 1.0
    while time.monotonic() - started < seconds:
        now = time.monotonic()
        if not polled.filter(status=RunStatus.QUEUED).exists():
            break  # the backlog is gone: what follows would no longer be measured under it
        if result["event_seconds"] is None:
            status = Run.objects.filter(pk=event_run.pk).values_list("status", flat=True).get()
            if status in TERMINAL:
                result["event_seconds"] = round(now - started, 2)
                result["event_status"] = status
                result["poll_queued_when_event_ended"] = polled.filter(status=RunStatus.QUEUED).count()
        if result["heartbeat_seconds"] is None and Heartbeat.objects.filter(beat_at__gte=sent_at).exists():
            result["heartbeat_seconds"] = round(now - started, 2)
        if result["heartbeat_seconds"] is not None:
            result["healthz"].append(client.get("/healthz").status_code)
        if now >= next_beat:  # as beat would, only more often
            app.send_task(HEARTBEAT)
            result["heartbeats_sent"] += 1
            next_beat = now + 1.0
        time.sleep(0.1)
    result["backlog_seconds"] = round(time.monotonic() - started, 2)
    result["poll_queued_at_end"] = polled.filter(status=RunStatus.QUEUED).count()
    beat = Heartbeat.objects.filter(name="worker").first()
    result["heartbeat_age_at_end"] = round((timezone.now() - beat.beat_at).total_seconds(), 2) if beat else None
    print(json.dumps(result))


if __name__ == "__main__":
    {"backlog": lambda arg: backlog(int(arg)), "probe": lambda arg: probe(float(arg))}[sys.argv[1]](sys.argv[2])
