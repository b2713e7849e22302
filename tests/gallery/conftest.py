"""End-to-end fixtures for the reference flows: the sandboxes served by the live server, one
connection per vendor named as the demo names them, the six reference flows published as
seed_demo publishes them, and real Celery workers (PostgreSQL + Redis) reaching the
sandboxes over HTTP. The test loop runs the dispatchers, as tests/reliability does."""

import io

import pytest

from integrations.connections.demo import demo_values
from integrations.connections.models import Connection
from integrations.connections.services import create_connection
from integrations.connectors.registry import get_connector
from integrations.sandboxes.admin_api import reset_vendor
from tests.connectors.contract import use_sandboxes
from tests.reliability.harness import Worker

VENDORS = ("salesforce", "kantata", "netsuite", "workday")
LEASE_SECONDS = 30  # a loaded shared machine runs a 200-record chunk for seconds


@pytest.fixture
def empty_broker(settings):
    """The test's own Redis db (REDIS_URL), emptied before and after."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield settings.REDIS_URL
    client.flushdb()


@pytest.fixture
def sandboxes(live_server, settings, empty_broker):
    """Connections to every sandbox (seeded at `size`) and the reference flows published."""
    from integrations.gallery import demo as gallery_demo

    use_sandboxes(live_server, settings)
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = [live_server.url]
    settings.SWITCHBOARD_LEASE_SECONDS = LEASE_SECONDS
    settings.SWITCHBOARD_BACKOFF_BASE_SECONDS = 0.2

    def load(size=300):
        for vendor in VENDORS:
            if not Connection.objects.filter(name=vendor).exists():
                create_connection("system:test", name=vendor, kind=vendor, **demo_values(vendor))
            reset_vendor(vendor, size)
        gallery_demo.seed(io.StringIO())
        return live_server.url

    return load


@pytest.fixture
def workers(live_server, empty_broker):
    """start() → a real worker (prefork, 2 processes) that reaches the sandboxes; all killed at teardown."""
    started = []

    def start() -> Worker:
        env = {
            "SWITCHBOARD_ALLOW_PRIVATE_ORIGINS": live_server.url,
            "SWITCHBOARD_SANDBOX_ORIGIN": live_server.url,
            "SWITCHBOARD_LEASE_SECONDS": str(LEASE_SECONDS),
            "SWITCHBOARD_BACKOFF_BASE_SECONDS": "0.2",
            "LOG_LEVEL": "WARNING",
        }
        worker = Worker(redis_url=empty_broker, env=env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


def connector(name: str):
    return get_connector(Connection.objects.get(name=name))


def settle(until, timeout: float = 120):
    """Run every dispatcher in-process (runs, chunks, deliveries) until `until()` holds."""
    from integrations.runs.batch.chunks import dispatch_due as dispatch_chunks
    from integrations.runs.batch.chunks import sweep_expired as sweep_chunks
    from integrations.runs.dispatch import dispatch_due, sweep_expired
    from tests.reliability.harness import drive

    def tick():
        dispatch_due(), sweep_expired(), dispatch_chunks(), sweep_chunks()

    return drive(until, timeout=timeout, on_tick=tick)
