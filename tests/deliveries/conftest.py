"""Deliveries tests run the ledger in-process against the ERP simulator on localhost."""

import pytest
from reliability.harness import Simulator, make_connection


@pytest.fixture(scope="session")
def simulator_process():
    sim = Simulator()
    yield sim
    sim.stop()


@pytest.fixture
def simulator(simulator_process, settings):
    simulator_process.http.post("/_control/reset").raise_for_status()
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = [simulator_process.url]
    settings.SWITCHBOARD_BACKOFF_BASE_SECONDS = 0.01
    settings.REDIS_URL = ""  # the database-backed throttle; the Redis one has its own tests
    return simulator_process


@pytest.fixture
def erp(db, simulator):
    return make_connection(simulator)
