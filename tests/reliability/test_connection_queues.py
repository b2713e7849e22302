"""One slow system cannot starve the others (docs/ARCHITECTURE.md#lanes-and-queues): a real worker, two ERP
simulators, one of which answers only after 20 s. Each delivery is its own message (as when
every run posts one record), the slow connection's all queued first."""

import time

import pytest

from integrations.deliveries.models import Delivery, ThrottleEvent

from .conftest import worker_env
from .harness import WORKER_TEST_MARKS, Simulator, Worker, make_connection, request_postings

pytestmark = WORKER_TEST_MARKS

# On one FIFO queue the fast messages would wait behind 100 slow ones, each holding a
# worker process for the throttle's short slot wait (≈ 20 s in all).
SLOW_MESSAGES, FAST_MESSAGES = 100, 10


@pytest.fixture
def slow_simulator(simulator, settings):
    sim = Simulator()
    sim.config(latency_ms=20_000)
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = [simulator.url, sim.url]
    yield sim
    sim.stop()


def test_a_hanging_target_does_not_delay_another_connection(simulator, slow_simulator, empty_broker):
    # One request in flight at a time against the slow system: its other messages are
    # deferred by the throttle, so it ties up one worker process, never both.
    slow = make_connection(slow_simulator, "slow", max_concurrency=1, timeout_seconds=30)
    env = {
        **worker_env(simulator),
        "SWITCHBOARD_ALLOW_PRIVATE_ORIGINS": f"{simulator.url},{slow_simulator.url}",
        "SWITCHBOARD_LEASE_SECONDS": "120",  # the throttle slot's lease outlives the 20 s request
    }
    worker = Worker(redis_url=empty_broker, env=env).start()
    try:
        for i in range(SLOW_MESSAGES):  # one message each, in the slow connection's queue
            request_postings(slow, 1, prefix=f"slow{i}", enqueue=True)
        time.sleep(4)  # the worker is up and already stuck in the slow target
        fast = make_connection(simulator, "fast")  # created while the worker runs: announced
        started = time.monotonic()
        for i in range(FAST_MESSAGES):
            request_postings(fast, 1, prefix=f"fast{i}", enqueue=True)
        deadline = started + 60
        while simulator.posting_count() < FAST_MESSAGES and time.monotonic() < deadline:
            time.sleep(0.2)
        took = time.monotonic() - started
        # The slow queue (consumed since worker start) is being worked too: one request in
        # flight, the other messages deferred by the throttle rather than waited on.
        slow_in_flight = Delivery.objects.filter(connection=slow, state="IN_FLIGHT").count()
        slow_deferred = ThrottleEvent.objects.filter(connection=slow).count()
    finally:
        worker.kill()
    print(f"[per-connection queues] fast postings={simulator.posting_count()} in {took:.1f}s, "
          f"slow in flight={slow_in_flight}, slow deferrals={slow_deferred}")  # fmt: skip
    assert simulator.posting_count() == FAST_MESSAGES
    assert took < 8, f"the fast connection waited {took:.1f}s behind the slow one"
    assert Delivery.objects.filter(connection=fast, state="SUCCEEDED").count() == FAST_MESSAGES
    assert slow_simulator.posting_count() <= 1  # the slow system is still on its first request
    assert slow_in_flight == 1 and slow_deferred > 0
