"""Redis lost with work pending; ambiguous outcomes (commit then drop / answer after the
client's timeout); concurrent retries of a dead delivery (RELIABILITY R3a, R3b, R5, R10)."""

import threading
import time
from collections import Counter

import pytest
from django.db import connection as db_connection

from integrations.deliveries.choices import DeliveryState, Outcome
from integrations.deliveries.models import Delivery, DeliveryAttempt
from integrations.deliveries.sender import deliver_one
from integrations.deliveries.services import DeliveryConflict, retry_delivery

from .conftest import worker_env
from .harness import RedisServer, Worker, all_terminal, check, drive, make_connection, request_postings, sender_via

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.slow
def test_redis_killed_and_restarted_empty_with_work_pending(simulator):
    simulator.config(latency_ms=5, honour_keys=False)
    redis = RedisServer(port=6391).start()
    send = sender_via(redis.url)
    erp = make_connection(simulator)
    request_postings(erp, 600)
    worker = Worker(redis_url=redis.url, env=worker_env(simulator)).start()
    try:
        drive(lambda: simulator.posting_count() >= 150, timeout=120, send=send, interval=0.2)
        redis.kill()
        killed_at = time.monotonic()
        posted_at_kill = simulator.posting_count()
        time.sleep(3)
        redis.start()  # empty: no AOF, no snapshot; every queued message is gone
        up_at = time.monotonic()
        drive(all_terminal, timeout=240, send=send)
        figures = check(
            simulator,
            posted_at_kill=posted_at_kill,
            recovery_s=round(time.monotonic() - killed_at, 1),
            drain_after_up_s=round(time.monotonic() - up_at, 1),
        )
    finally:
        worker.kill()
        redis.kill()
    figures.show("R3a redis restarted empty")
    assert (figures.posted, figures.lost, figures.duplicated, figures.dead) == (600, 0, 0, 0)


@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.slow
def test_redis_killed_and_restarted_with_aof_the_same_worker_resumes(simulator, tmp_path, settings):
    # R3b: queued messages survive in the AOF; the point is that the running worker reconnects
    # and consumes again by itself (celery #9054/#10205), and the ledger still posts once.
    settings.SWITCHBOARD_DISPATCH_OUTSTANDING = 600  # six messages: most wait in Redis at the kill
    simulator.config(latency_ms=5, honour_keys=False)
    redis = RedisServer(port=6393, aof_dir=tmp_path).start()
    send = sender_via(redis.url)
    erp = make_connection(simulator)
    request_postings(erp, 600)
    worker = Worker(redis_url=redis.url, env=worker_env(simulator)).start()
    try:
        drive(lambda: simulator.posting_count() >= 150, timeout=120, send=send, interval=0.2)
        redis.kill()
        posted_at_kill = simulator.posting_count()
        time.sleep(3)
        redis.start()
        up_at = time.time()
        client = redis_client(redis.url)
        queued_after_restart, unacked_after_restart = queued_messages(client), client.hlen("unacked")
        drive(all_terminal, timeout=240, send=send)
        drain_after_up_s = time.time() - up_at
        first_post = min(r["t"] for r in simulator.state()["requests"] if r["method"] == "POST" and r["t"] > up_at)
        same_worker = worker.proc.poll() is None
    finally:
        worker.kill()
        redis.kill()
    figures = check(
        simulator,
        posted_at_kill=posted_at_kill,
        queued_after_restart=queued_after_restart,
        unacked_after_restart=unacked_after_restart,
        first_post_after_up_s=round(first_post - up_at, 1),
        drain_after_up_s=round(drain_after_up_s, 1),
    )
    figures.show("R3b redis restarted with AOF")
    assert same_worker, "the worker died with Redis; it must ride the outage out"
    assert queued_after_restart > 0, "nothing was waiting in Redis: the AOF was not exercised"
    assert first_post - up_at <= 30, "the worker did not resume consuming within 30 s of Redis coming back"
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
