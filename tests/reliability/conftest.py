"""Fault tests: real PostgreSQL (transactional test database), real Redis, a real Celery
worker subprocess, and the ERP simulator. The dispatcher and sweeper run in the test's own
loop so timing is deterministic; only the sends happen in the worker."""

import pytest

from .harness import Simulator, Worker

LEASE_SECONDS = 5
REDISPATCH_SECONDS = 10


@pytest.fixture
def simulator(settings):
    sim = Simulator()
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = [sim.url]
    settings.SWITCHBOARD_LEASE_SECONDS = LEASE_SECONDS
    settings.SWITCHBOARD_REDISPATCH_SECONDS = REDISPATCH_SECONDS
    settings.SWITCHBOARD_DISPATCH_OUTSTANDING = 200  # two chunks: through in well under 10 s
    settings.SWITCHBOARD_BACKOFF_BASE_SECONDS = 0.2
    yield sim
    sim.stop()


def worker_env(simulator) -> dict:
    return {
        "SWITCHBOARD_ALLOW_PRIVATE_ORIGINS": simulator.url,
        "SWITCHBOARD_LEASE_SECONDS": str(LEASE_SECONDS),
        "SWITCHBOARD_REDISPATCH_SECONDS": str(REDISPATCH_SECONDS),
        "SWITCHBOARD_BACKOFF_BASE_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def empty_broker(settings):
    """The test's own Redis db (REDIS_URL), emptied: no messages or throttle state left over."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield settings.REDIS_URL
    client.flushdb()


@pytest.fixture
def worker(simulator, empty_broker):
    """A started worker on the test's Redis; killed (whole process group) at teardown."""
    started = []

    def start(**env) -> Worker:
        w = Worker(redis_url=empty_broker, env={**worker_env(simulator), **env}).start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.kill()
