"""Redis SIGKILLed while tasks run: the worker must ride it out, five times over.

kombu 5.7.0 (the newest on PyPI) closes the consumer's channel after the broker connection
is gone and then tries to put the running task's message back in Redis through that closed
connection: `AttributeError: 'NoneType' object has no attribute 'hostname'` ends the worker
("Unrecoverable error"). studio/kombu_redis_fix.py guards that close; the ledger makes the lost
restore harmless (the dispatcher re-sends whatever is still due)."""

import time

import pytest
from kombu import Connection

import studio.celery  # noqa: F401  (installs the workaround, as every worker does)

from .conftest import worker_env
from .harness import (
    RedisServer,
    Worker,
    all_terminal,
    check,
    drive,
    make_connection,
    request_postings,
    sender_via,
)

KILLS = 5
ROWS = 500
DOWN_SECONDS = 1


@pytest.mark.redis
def test_closing_a_channel_of_a_detached_transport_keeps_the_worker_alive():
    # The exact step that ended the worker: the consumer's connection is released (its
    # transport detached first), then its channel is closed with a message unacknowledged.
    redis = RedisServer(port=6396).start()
    try:
        with Connection(redis.url) as conn:
            queue = conn.SimpleQueue("kombu-fix")
            queue.put({"n": 1})
            queue.get(timeout=2)  # delivered, not acknowledged: the channel must restore it
            conn.transport.client = None
            queue.channel.close()  # AttributeError ... 'hostname' without studio/kombu_redis_fix.py
            assert queue.channel.closed
    finally:
        redis.kill()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_redis_sigkilled_five_times_while_tasks_run(simulator, tmp_path):
    # 20 ms per posting and 100 per message: a task is always running when Redis dies.
    simulator.config(latency_ms=20, honour_keys=False)
    redis = RedisServer(port=6395).start()
    send = sender_via(redis.url)
    request_postings(make_connection(simulator), ROWS)
    log = tmp_path / "worker.log"
    worker = Worker(redis_url=redis.url, env=worker_env(simulator), log=log, as_deployed=True).start()
    survived = []
    try:
        for kill in range(KILLS):
            target = (kill + 1) * ROWS // (KILLS + 2)
            drive(lambda t=target: simulator.posting_count() >= t, timeout=120, send=send, interval=0.2)
            redis.kill()
            time.sleep(DOWN_SECONDS)
            redis.start()
            time.sleep(2)
            survived.append(worker.proc.poll() is None)
        drive(all_terminal, timeout=240, send=send)
        alive_at_end = worker.proc.poll() is None
    finally:
        worker.kill()
        redis.kill()
    figures = check(simulator, kills=KILLS, worker_alive_after_each_kill=survived)
    figures.show("redis SIGKILL x5 mid-task")
    unrecoverable = "Unrecoverable error" in log.read_text()
    assert all(survived) and alive_at_end and not unrecoverable, log.read_text()[-3000:]
    assert (figures.posted, figures.lost, figures.duplicated, figures.dead) == (ROWS, 0, 0, 0)
