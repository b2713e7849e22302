"""R11: duplicate inbound webhooks. 500 events, each sent three times with the same
`webhook-id` to POST /hooks/crm/ (Standard Webhooks signing): copies of the same event race
each other from three threads, and half the events come a third time an hour later,
re-signed as a sender's retry is. A real worker runs the flows and posts to the ERP simulator.

tests/runtime/test_concurrent_duplicates.py covers the service with three copies of one
event; this is the same guarantee at the scale of scenario R11 (docs/RELIABILITY.md §12), over
HTTP, end to end."""

import json
import threading
import time
import types
from collections import Counter

from django.db import connection as db_connection
from django.test import Client

from integrations.connectors.webhooks import standard_signature
from integrations.events.models import Event
from integrations.runs import doorbell
from integrations.runs.dispatch import dispatch_due, sweep_expired
from integrations.runs.models import Run
from tests.runtime.conftest import INVOICE_FLOW, WEBHOOK_SECRET, crm, publish_flow  # noqa: F401

from .harness import WORKER_TEST_MARKS, check, drive, make_connection

pytestmark = WORKER_TEST_MARKS

EVENTS = 500
HOUR = 3600


def send(client: Client, i: int, *, clock=time.time):
    """One signed copy of event i: a retry keeps the webhook-id and signs a fresh timestamp."""
    body = json.dumps({"type": "invoice.approved", "data": {"id": f"INV-{i}", "amount": i}}).encode()
    msg_id, stamp = f"msg_{i}", str(int(clock()))
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": standard_signature(WEBHOOK_SECRET, msg_id, stamp, body),
    }
    response = client.post("/hooks/crm/", body, content_type="application/json", headers=headers)
    return i, response.status_code, response.json()


def send_racing_copies() -> list[tuple]:
    """Three threads send copy k of event i together; the third sits out odd events (their
    third copy comes an hour later)."""
    barrier, answers, errors = threading.Barrier(3), [], []

    def sender(k: int) -> None:
        client = Client()
        try:
            for i in range(EVENTS):
                barrier.wait()
                if k < 2 or i % 2 == 0:
                    answers.append(send(client, i))
        except Exception as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()
        finally:
            db_connection.close()

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return answers


def runs_settled() -> bool:
    dispatch_due()
    sweep_expired()
    return not Run.objects.exclude(status__in=["succeeded", "failed"]).exists()


def test_each_webhook_sent_three_times_is_stored_run_and_posted_once(
    simulator,
    worker,
    personas,
    crm,  # noqa: F811
    monkeypatch,
    settings,
):
    # No worker is killed here: a lease long enough that 500 run messages (which expire with
    # the lease) are not dropped while the worker works through the backlog.
    settings.SWITCHBOARD_LEASE_SECONDS = 60
    make_connection(simulator, "erp")
    publish_flow(personas["analyst"], INVOICE_FLOW)
    enqueued = Counter()
    ring = doorbell.enqueue_runs

    def counting_enqueue(run_ids, **options) -> None:
        enqueued.update(run_ids)
        ring(run_ids, **options)

    monkeypatch.setattr(doorbell, "enqueue_runs", counting_enqueue)
    worker(SWITCHBOARD_LEASE_SECONDS="60")

    started = time.monotonic()
    answers = send_racing_copies()
    send_s = time.monotonic() - started
    by_hooks = Counter(enqueued)  # before the dispatcher (which re-rings waiting runs) runs here
    drive(runs_settled, timeout=240)
    posted_before_late = simulator.posting_count()

    # An hour later (the receiver's clock too), the odd events arrive a third time.
    later = types.SimpleNamespace(time=lambda: time.time() + HOUR)
    monkeypatch.setattr("integrations.connectors.webhooks.time", later)
    client, rung = Client(), sum(enqueued.values())
    late = [send(client, i, clock=later.time) for i in range(1, EVENTS, 2)]
    rung_by_late = sum(enqueued.values()) - rung
    drive(runs_settled, timeout=30)

    first = {}
    for i, status, body in answers + late:
        if status == 202:
            assert i not in first, f"event {i} was accepted twice"
            first[i] = body
    statuses = Counter(status for _i, status, _body in answers + late)
    repeats = [(i, body) for i, status, body in answers + late if status == 200]
    figures = check(
        simulator,
        requests=len(answers) + len(late),
        answers=dict(statuses),
        events=Event.objects.count(),
        runs=Run.objects.count(),
        runs_enqueued_by_hooks=sum(by_hooks.values()),
        runs_enqueued_by_late=rung_by_late,
        send_s=round(send_s, 1),
    )
    figures.show("R11 duplicate webhooks")
    assert len(answers) + len(late) == 3 * EVENTS
    assert statuses == {202: EVENTS, 200: 2 * EVENTS}, "every repeat must be a 2xx, the first a 202"
    assert all(body == {**first[i], "duplicate": True} for i, body in repeats), "a repeat started new work"
    assert Event.objects.count() == EVENTS and Run.objects.count() == EVENTS
    assert Run.objects.filter(status="succeeded").count() == EVENTS
    assert len(by_hooks) == EVENTS and set(by_hooks.values()) == {1}, "a repeat enqueued a run"
    assert rung_by_late == 0
    assert (figures.posted, figures.lost, figures.duplicated, figures.dead) == (EVENTS, 0, 0, 0)
    assert posted_before_late == EVENTS
