"""Redis lost with work pending; ambiguous outcomes (commit then drop / answer after the
client's timeout); concurrent retries of a dead delivery (scenarios R3a, R3b, R5, R10 of docs/RELIABILITY.md §12)."""

import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.db import connection as db_connection

from integrations.deliveries.choices import DeliveryState, Outcome
from integrations.deliveries.models import Delivery, DeliveryAttempt
from integrations.deliveries.sender import deliver_one
from integrations.deliveries.services import DeliveryConflict, retry_delivery

from .conftest import worker_env
from .harness import RedisServer, Worker, all_terminal, check, drive, make_connection, request_postings, sender_via

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@dataclass
class RedisOutage:
    worker: Worker
    send: Callable[[list[int], str], None]
    posted_at_kill: int
    killed_at: float  # time.time()
    up_at: float  # time.time(), once Redis answers again


@contextmanager
def redis_killed_midway(simulator, redis: RedisServer, rows: int = 600):
    """A worker posts `rows` through a private Redis; SIGKILL Redis at ~150 postings and start
    it again 3 s later (empty or from its AOF, as `redis` is configured). The worker and Redis
    are killed when the block ends."""
    simulator.config(latency_ms=5, honour_keys=False)  # no key replay: only the ledger and lookup protect
    redis.start()
    send = sender_via(redis.url)
    request_postings(make_connection(simulator), rows)
    worker = Worker(redis_url=redis.url, env=worker_env(simulator)).start()
    try:
        drive(lambda: simulator.posting_count() >= 150, timeout=120, send=send, interval=0.2)
        redis.kill()
        killed_at, posted_at_kill = time.time(), simulator.posting_count()
        time.sleep(3)
        redis.start()
        yield RedisOutage(worker, send, posted_at_kill, killed_at, time.time())
    finally:
        worker.kill()
        redis.kill()


@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.slow
def test_redis_killed_and_restarted_empty_with_work_pending(simulator):
    # R3a: no AOF, no snapshot; every queued message is gone, the dispatcher re-sends.
    with redis_killed_midway(simulator, RedisServer(port=6391)) as outage:
        drive(all_terminal, timeout=240, send=outage.send)
        figures = check(
            simulator,
            posted_at_kill=outage.posted_at_kill,
            recovery_s=round(time.time() - outage.killed_at, 1),
            drain_after_up_s=round(time.time() - outage.up_at, 1),
        )
    figures.show("R3a redis restarted empty")
    assert (figures.posted, figures.lost, figures.duplicated, figures.dead) == (600, 0, 0, 0)


@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.slow
def test_redis_killed_and_restarted_with_aof_the_same_worker_resumes(simulator, tmp_path, settings):
    # R3b: queued messages survive in the AOF; the point is that the running worker reconnects
    # and consumes again by itself (celery #9054/#10205), and the ledger still posts once.
    settings.SWITCHBOARD_DISPATCH_OUTSTANDING = 600  # six messages: most wait in Redis at the kill
    redis = RedisServer(port=6393, aof_dir=tmp_path)
    with redis_killed_midway(simulator, redis) as outage:
        client = redis_client(redis.url)
        queued_after_restart, unacked_after_restart = queued_messages(client), client.hlen("unacked")
        drive(all_terminal, timeout=240, send=outage.send)
        drain_after_up_s = time.time() - outage.up_at
        posts = [r["t"] for r in simulator.state()["requests"] if r["method"] == "POST" and r["t"] > outage.up_at]
        same_worker = outage.worker.proc.poll() is None
    resume_s = min(posts) - outage.up_at
    figures = check(
        simulator,
        posted_at_kill=outage.posted_at_kill,
        queued_after_restart=queued_after_restart,
        unacked_after_restart=unacked_after_restart,
        first_post_after_up_s=round(resume_s, 1),
        drain_after_up_s=round(drain_after_up_s, 1),
    )
    figures.show("R3b redis restarted with AOF")
    assert same_worker, "the worker died with Redis; it must ride the outage out"
    assert queued_after_restart > 0, "nothing was waiting in Redis: the AOF was not exercised"
    assert resume_s <= 30, "the worker did not resume consuming within 30 s of Redis coming back"
    assert (figures.posted, figures.lost, figures.duplicated, figures.dead) == (600, 0, 0, 0)


def redis_client(url: str):
    import redis

    return redis.Redis.from_url(url)


def queued_messages(client) -> int:
    """Messages waiting in any queue (each Celery queue is a Redis list), whatever its name."""
    return sum(client.llen(key) for key in client.scan_iter() if client.type(key) == b"list")


@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.slow
def test_commit_then_drop_and_late_answers_are_resolved_by_lookup(simulator, worker):
    # The target ignores Idempotency-Key here: only the lookup stands between us and a duplicate.
    simulator.config(honour_keys=False, drop_rate=0.10, slow_rate=0.05, slow_seconds=2.5, seed=7)
    erp = make_connection(simulator, timeout_seconds=1)
    request_postings(erp, 300)
    worker()
    drive(all_terminal, timeout=240)
    outcomes = Counter(DeliveryAttempt.objects.values_list("outcome", flat=True))
    figures = check(simulator, found_by_lookup=outcomes[Outcome.FOUND], retried=outcomes[Outcome.RETRYABLE])
    figures.show("R5 ambiguous outcome")
    assert (figures.posted, figures.lost, figures.duplicated, figures.dead) == (300, 0, 0, 0)
    assert outcomes[Outcome.FOUND] > 0, "no ambiguous outcome was resolved by lookup"


def test_concurrent_retries_of_a_dead_delivery_post_once(simulator):
    simulator.config(script={"inv:0": ["422"]})
    erp = make_connection(simulator)
    (delivery,) = request_postings(erp, 1)
    assert deliver_one(delivery.pk) == Outcome.DEAD
    barrier, results = threading.Barrier(20), []

    def retry():
        try:
            barrier.wait()
            retry_delivery(Delivery.objects.get(pk=delivery.pk), actor="tester")
            results.append("ok")
        except DeliveryConflict:
            results.append("conflict")
        finally:
            db_connection.close()

    threads = [threading.Thread(target=retry) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(results) == {"ok": 1, "conflict": 19}
    assert deliver_one(delivery.pk) == Outcome.SUCCEEDED
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED
    figures = check(simulator, retries_won=1, conflicts=19)
    figures.show("R10 concurrent retry")
    assert figures.posted == 1 and figures.duplicated == 0
