"""Runtime fixtures: a signed-webhook source connection, the ERP simulator as the target,
and a published event flow that maps an invoice and posts it through the ledger.

Celery doorbells are recorded instead of sent: tests drive the services directly against
the real database (only tests/reliability/ starts a live worker) and assert which runs
would have been enqueued."""

import base64
import contextlib

import pytest
import redis

from tests.reliability.harness import Simulator, make_connection

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"switchboard-test-secret-0123456789").decode()

INVOICE_FLOW = {
    "trigger": {"type": "event", "connection": "crm", "event": "invoice.approved"},
    "steps": [
        {
            "id": "shape",
            "type": "map",
            "fields": [
                {"to": "external_ref", "from": "$.id", "required": True},
                {"to": "amount", "from": "$.amount", "required": True},
                {"to": "currency", "constant": "EUR"},
            ],
        },
        {
            "id": "post",
            "type": "deliver",
            "connection": "erp",
            "object": "postings",
            "action": "create",
            "key": "invoice:{{ record.external_ref }}",
            "external_id_field": "external_ref",
            "external_id": "{{ record.external_ref }}",
        },
    ],
}


@pytest.fixture(autouse=True)
def no_doorbell_marks(settings):
    """A lane's doorbell mark (integrations/runs/doorbell.py) left by an earlier test would
    coalesce this test's rings onto a message nobody sends: each test starts without one."""
    from integrations.runs.doorbell import PENDING_KEY  # after Django's set-up: it reads models

    if settings.REDIS_URL:
        with contextlib.suppress(redis.RedisError, OSError):  # no Redis: the tests that need it are skipped
            redis.Redis.from_url(settings.REDIS_URL).delete(
                *(PENDING_KEY.format(lane=lane) for lane in ("default", "bulk"))
            )


@pytest.fixture
def doorbells(monkeypatch):
    """Run ids the runtime would have enqueued (and delivery ids the ledger would have)."""
    rung = {"runs": [], "deliveries": []}
    monkeypatch.setattr("integrations.runs.doorbell.enqueue_runs", lambda ids, **options: rung["runs"].extend(ids))
    monkeypatch.setattr("integrations.deliveries.services._flush", lambda: rung["deliveries"].append("flush"))
    monkeypatch.setattr("integrations.runs.doorbell.enqueue_bulk_job", lambda job_id: None)
    return rung


@pytest.fixture
def sim(settings):
    simulator = Simulator()
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = [simulator.url]
    yield simulator
    simulator.stop()


@pytest.fixture
def crm(db):
    from integrations.connections.models import Connection

    connection = Connection(name="crm", kind="generic_webhook", base_url="https://crm.example.com")
    connection.set_credentials({"webhook_secret": WEBHOOK_SECRET})
    connection.save()
    return connection


@pytest.fixture
def erp(db, sim):
    return make_connection(sim, "erp", max_attempts=3)


@pytest.fixture
def erp_offline(db):
    """A target nobody calls: for tests that stop at 'delivery requested'."""
    from integrations.connections.models import Connection

    return Connection.objects.create(
        name="erp", kind="generic_rest", base_url="https://erp.example.com", config={"auth_type": "none"}
    )


def publish_flow(user, definition, key="invoices"):
    from integrations.flows.services import create_flow, publish

    flow = create_flow(user, key=key, name=key.title(), definition=definition)
    publish(flow, user)
    return flow


@pytest.fixture
def invoice_flow(personas, crm, doorbells):
    return publish_flow(personas["analyst"], INVOICE_FLOW)
