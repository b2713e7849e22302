"""Acceptance of issue 3 against a real worker: classification, Retry-After, maintenance
windows and a SIGKILL of the worker mid-batch (docs/RELIABILITY.md §12: R1, R2 and R9 in small)."""

import time
from collections import Counter
from datetime import timedelta

from django.utils import timezone

from integrations.connections.models import MaintenanceWindow
from integrations.deliveries.choices import DeliveryState
from integrations.deliveries.models import Delivery
from integrations.deliveries.throttle import interval_bound

from .harness import WORKER_TEST_MARKS, all_terminal, check, drive, make_connection, request_postings

pytestmark = WORKER_TEST_MARKS


def attempts_of(ref: str) -> int:
    return Delivery.objects.get(external_id=ref).attempts


def test_transient_permanent_and_retry_after_through_the_worker(simulator, worker):
    simulator.config(script={"inv:3": ["503", "503"], "inv:5": ["422"], "inv:7": ["429:2"]})
    erp = make_connection(simulator)
    request_postings(erp, 20)
    worker()
    drive(all_terminal, timeout=60)
    figures = check(simulator, expect_dead={"inv:5"})
    figures.show("classification")
    assert (figures.posted, figures.lost, figures.duplicated, figures.dead) == (19, 0, 0, 1)
    # A 429 asks us to come back later: it does not count toward max_attempts.
    assert attempts_of("inv:3") == 3 and attempts_of("inv:5") == 1 and attempts_of("inv:7") == 1
    assert "cost centre unknown" in Delivery.objects.get(external_id="inv:5").last_error
    posts = [r["t"] for r in simulator.state()["requests"] if r["ref"] == "inv:7" and r["method"] == "POST"]
    assert len(posts) == 2 and posts[1] - posts[0] >= 2.0, "Retry-After: 2 not honoured"


def test_maintenance_window_holds_then_drains_oldest_first_under_the_rate_limit(simulator, worker):
    erp = make_connection(simulator, rate_limit_requests=20, rate_limit_interval_seconds=1)
    now = timezone.now()
    MaintenanceWindow.objects.create(connection=erp, kind="one_off", starts_at=now, ends_at=now + timedelta(seconds=6))
    request_postings(erp, 120)
    worker()
    drive(lambda: timezone.now() > now + timedelta(seconds=6), timeout=30)
    assert simulator.posting_count() == 0, "posted during the maintenance window"
    assert Delivery.objects.filter(state=DeliveryState.PENDING).count() == 120
    drive(all_terminal, timeout=90)
    figures = check(simulator)
    times = [r["t"] for r in simulator.state()["requests"] if r["method"] == "POST"]
    per_second = Counter(int(t) for t in times)
    order = [int(p["external_ref"].split(":")[1]) for p in simulator.postings()]
    displacement = max(abs(pos - ref) for pos, ref in enumerate(order))
    drain_s = max(times) - min(times)
    figures.extra.update(drain_s=round(drain_s, 1), max_req_per_s=max(per_second.values()), displacement=displacement)
    figures.show("maintenance window")
    assert (figures.posted, figures.lost, figures.duplicated) == (120, 0, 0)
    assert max(per_second.values()) <= interval_bound(erp)
    assert drain_s >= 120 / 20 * 0.8, "drained faster than the rate limit allows"
    # Oldest-first to within two passes' budget (20 rows a pass): the dispatcher lets nothing
    # newer overtake a row the throttle put back, but of the two worker processes one may sleep
    # through a throttle wait (up to a second, sender.MAX_INLINE_WAIT) on its chunk while the
    # other sends the next pass's rows. Seen on a quiet machine: 15-27 with that rule, 21-50
    # without it.
    assert displacement <= 2 * 20, "not drained oldest-first"


def test_sigkill_of_worker_and_children_midway_through_1000_deliveries(simulator, worker):
    simulator.config(latency_ms=5, honour_keys=False)  # no key replay: only the ledger and lookup protect
    erp = make_connection(simulator)
    request_postings(erp, 1000)
    first = worker()
    to_300_s = drive(lambda: simulator.posting_count() >= 300, timeout=120, interval=0.2)
    first.kill()
    killed_at = time.monotonic()
    posted_at_kill = simulator.posting_count()
    time.sleep(5)
    worker()
    drive(all_terminal, timeout=180)
    recovery_s = time.monotonic() - killed_at
    losses = Counter(Delivery.objects.values_list("worker_losses", flat=True))
    figures = check(
        simulator,
        posted_at_kill=posted_at_kill,
        to_300_s=round(to_300_s, 1),
        recovery_s=round(recovery_s, 1),
        worker_losses=dict(losses),
    )
    figures.show("R1 sigkill")
    assert (figures.posted, figures.lost, figures.duplicated, figures.dead) == (1000, 0, 0, 0)
    assert Delivery.objects.filter(state=DeliveryState.SUCCEEDED).count() == 1000


def test_poison_row_is_dead_lettered_after_three_worker_losses(simulator, worker):
    # R2: the worker dies every time it sends inv:42 (an OOM-killing payload, in effect).
    simulator.config(script={"inv:42": ["hang"] * 5})
    erp = make_connection(simulator)
    request_postings(erp, 60)
    workers = [worker()]

    def kill_on_poison():
        started = [r for r in simulator.state()["requests"] if r["ref"] == "inv:42" and r["method"] == "POST"]
        if len(started) == len(workers):
            workers[-1].kill()
            workers.append(worker())

    drive(all_terminal, timeout=240, on_tick=kill_on_poison, interval=0.2)
    poison = Delivery.objects.get(external_id="inv:42")
    posts = [r for r in simulator.state()["requests"] if r["ref"] == "inv:42" and r["method"] == "POST"]
    figures = check(simulator, expect_dead={"inv:42"}, poison_sends=len(posts), kills=len(workers) - 1)
    figures.show("R2 poison row")
    assert (poison.state, poison.classification, poison.worker_losses) == ("DEAD", "worker_lost", 3)
    assert len(posts) == 3, "the poison row ran more than three times"
    assert (figures.posted, figures.lost, figures.duplicated, figures.dead) == (59, 0, 0, 1)
