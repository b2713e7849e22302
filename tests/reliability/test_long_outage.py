"""R8, the ETA trap: a two-hour outage of the target (503, no Retry-After) with 300 deliveries
pending, in fake time, with the DEFAULT settings (8 attempts, backoff cap 10 min): the
circuit breaker (docs/RELIABILITY.md §7) holds the backlog after five failures and probes once per
cooldown, so the outage costs latency and no delivery is dead-lettered.

The fake clock is `django.utils.timezone.now`, which the dispatcher, ledger and sender all
read, so the test runs them in-process: the real dispatcher publishes to the test's Redis, and
the test reads every message back out of Redis (headers as a worker would get them) and runs
each one, every fourth one TWICE at once, as a broker redelivery would. Between passes the clock jumps ahead by
one dispatcher tick; two hours of outage take well under a minute."""

import base64
import json
import math
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from django.db import connection as db_connection
from django.db.models import Min
from django.utils import timezone

from integrations.audit.models import AuditEntry
from integrations.deliveries import circuit, transport
from integrations.deliveries.choices import DUE_STATES
from integrations.deliveries.dispatcher import dispatch_due, sweep_expired
from integrations.deliveries.models import Delivery, DeliveryAttempt
from integrations.deliveries.sender import deliver_chunk

from .harness import all_terminal, check, make_connection, request_postings

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

OUTAGE = timedelta(hours=2)
TICK = timedelta(seconds=30)  # fake time between dispatcher passes
BASE, CAP = 2.0, 600.0  # the default backoff (the fault-test conftest lowers the base)
ROWS = 300
WORKERS = 4  # threads running the messages, as a worker's pool processes would


class FakeClock:
    def __init__(self) -> None:
        self.value = timezone.now()

    def now(self) -> datetime:
        return self.value

    def advance(self, by: timedelta) -> None:
        self.value += by


class InFlight:
    """Wraps the sender's one HTTP seam: how many attempts per key were in it at once."""

    def __init__(self, send) -> None:
        self.send, self.lock = send, threading.Lock()
        self.current, self.max = Counter(), Counter()

    def __call__(self, delivery, connector):
        with self.lock:
            self.current[delivery.key] += 1
            self.max[delivery.key] = max(self.max[delivery.key], self.current[delivery.key])
        try:
            return self.send(delivery, connector)
        finally:
            with self.lock:
                self.current[delivery.key] -= 1


def take_messages(client) -> list[dict]:
    """Every message waiting in any queue (a Celery queue is a Redis list), oldest first."""
    taken = []
    for key in client.scan_iter():
        if client.type(key) == b"list":
            while (raw := client.rpop(key)) is not None:
                taken.append(json.loads(raw))
    return taken


def ids_of(message: dict) -> list[int]:
    args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    return args[0]


def test_two_hour_outage_holds_the_backlog_probes_and_posts_each_once_after(
    simulator, empty_broker, settings, monkeypatch
):
    import redis

    settings.SWITCHBOARD_BACKOFF_BASE_SECONDS, settings.SWITCHBOARD_BACKOFF_CAP_SECONDS = BASE, CAP
    clock = FakeClock()
    monkeypatch.setattr(timezone, "now", clock.now)
    in_flight = InFlight(transport.send)
    monkeypatch.setattr(transport, "send", in_flight)
    broker = redis.Redis.from_url(empty_broker)
    erp = make_connection(simulator)  # max_attempts 8, the default
    limits = circuit.limits_of(erp)
    request_postings(erp, ROWS)
    simulator.config(unavailable=True)
    outage_started = clock.now()
    outage_ends = outage_started + OUTAGE

    headers, results = [], Counter()
    pool = ThreadPoolExecutor(max_workers=WORKERS)

    def run(ids: list[int]) -> dict:
        return deliver_chunk(ids)  # each pool thread keeps its connection, as a worker process does

    def close_connections() -> None:
        everyone = threading.Barrier(WORKERS)  # so that each thread closes its own
        for done in [pool.submit(lambda: (everyone.wait(), db_connection.close())) for _ in range(WORKERS)]:
            done.result()

    def one_pass() -> None:
        sweep_expired()
        while dispatch_due():
            messages = take_messages(broker)
            copies = []
            for message in messages:
                redelivered = len(headers) % 4 == 0
                headers.append(message["headers"])
                copies += [pool.submit(run, ids_of(message)) for _ in range(2 if redelivered else 1)]
            for copy in copies:
                results.update(copy.result())

    def next_tick() -> None:
        """On to the next tick at which something is due: the passes between would find nothing."""
        earliest = Delivery.objects.filter(state__in=DUE_STATES).aggregate(t=Min("next_attempt_at"))["t"]
        ticks = max(1, math.ceil((earliest - clock.now()) / TICK)) if earliest else 1
        clock.advance(ticks * TICK)

    try:
        while clock.now() < outage_ends:
            one_pass()
            next_tick()
        assert simulator.posting_count() == 0
        in_outage = Counter(Delivery.objects.values_list("attempts", flat=True))
        simulator.config(unavailable=False)
        recovery_started = clock.now()
        while not all_terminal():
            one_pass()
            next_tick()
            # At worst the circuit has just re-opened for its longest cooldown.
            assert clock.now() - recovery_started < timedelta(seconds=limits.max_cooldown) + 3 * TICK, "not drained"
    finally:
        close_connections()
        pool.shutdown()

    starts = list(DeliveryAttempt.objects.order_by("started_at").values_list("started_at", flat=True))
    audit = AuditEntry.objects.filter(object_id=str(erp.pk)).order_by("at", "id")
    opens = list(audit.filter(action="connection.circuit_opened").values_list("at", flat=True))
    closes = list(audit.filter(action="connection.circuit_closed").values_list("at", flat=True))
    assert opens, f"the circuit never opened; {check(simulator).dead} deliveries dead-lettered"
    # Every pass runs at one fake instant: the first pass's attempts tripped the circuit, each
    # later instant with an attempt before recovery is a probe.
    before_open = sum(1 for t in starts if t <= opens[0])
    probes = Counter(t for t in starts if opens[0] < t < recovery_started)
    gaps = [(after - before).total_seconds() for before, after in pairwise([opens[0], *sorted(probes)])]
    cooldowns = [circuit.cooldown_seconds(limits, n) for n in range(len(gaps))]
    etas = [h for h in headers if h.get("eta") or h.get("countdown")]
    figures = check(
        simulator,
        attempts_before_open=before_open,
        probes_in_outage=len(probes),
        probe_gaps_s=f"{min(gaps):.0f}-{max(gaps):.0f}",
        attempts_in_outage_max=max(in_outage),
        rows_never_tried_in_outage=in_outage[0],
        circuit_opened=len(opens),
        circuit_closed=len(closes),
        held=results["held"],
        max_concurrent_per_key=max(in_flight.max.values()),
        duplicate_copies_refused=results["not_due"] + results["not_claimed"],
        messages=len(headers),
        etas=len(etas),
    )
    figures.show("R8 two-hour outage")
    assert (figures.posted, figures.lost, figures.duplicated, figures.dead) == (ROWS, 0, 0, 0)
    # Five failures (plus what was already in flight on the other workers) open the circuit.
    assert limits.threshold <= before_open <= limits.threshold + WORKERS
    assert set(probes.values()) == {1}, "more than one probe at once"
    assert all(gap >= cooldown for gap, cooldown in zip(gaps, cooldowns, strict=True)), "a probe inside a cooldown"
    # Two hours hold ~16 cooldowns (30 s doubling to the 600 s cap); passes are 30 s apart.
    assert len(probes) <= math.ceil(OUTAGE.total_seconds() / limits.max_cooldown) + 5
    assert max(in_outage) < erp.max_attempts, "a delivery came close to exhaustion during the outage"
    assert len(opens) == 1 + len(probes) and len(closes) == 1, "audit: one entry per state change"
    assert figures.extra["max_concurrent_per_key"] == 1
    assert figures.extra["duplicate_copies_refused"] > 0, "the redelivered copies never competed"
    assert etas == [], "a delivery message was published with an ETA or countdown"
