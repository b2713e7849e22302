"""Connection status from checks, pauses, windows and throttling; the periodic check;
the demo connections."""

import io
from datetime import time, timedelta

import pytest
from django.utils import timezone

from integrations.connections import demo, tasks
from integrations.connections.choices import ConnectionStatus
from integrations.connections.models import Connection, MaintenanceWindow
from integrations.connections.services import add_window, create_connection
from integrations.deliveries.queries import connection_health as health
from integrations.sandboxes.credentials import sandbox_credentials


def make(**over):
    fields = {
        "name": "erp",
        "kind": "generic_rest",
        "base_url": "https://erp.example.com",
        "config": {"auth_type": "none"},
    }
    return create_connection("system:test", **{**fields, **over})


@pytest.mark.django_db
def test_status_follows_check_pause_and_windows():
    conn = make()
    assert health(conn).status == ConnectionStatus.UNVERIFIED
    Connection.objects.filter(pk=conn.pk).update(
        last_check_at=timezone.now(), last_check_ok=True, last_check_latency_ms=80
    )
    conn.refresh_from_db()
    assert health(conn).status == ConnectionStatus.HEALTHY
    conn.last_check_latency_ms = 9000
    assert health(conn).status == ConnectionStatus.DEGRADED
    conn.last_check_ok, conn.last_check_error = False, "HTTP 503: down"
    offline = health(conn)
    assert offline.status == ConnectionStatus.OFFLINE and offline.detail == "HTTP 503: down"
    now = timezone.now()
    add_window(
        "system:test",
        conn,
        kind="weekly",
        weekday=now.isoweekday(),
        timezone="UTC",
        start_time=time(0, 0),
        end_time=time(23, 59),
    )
    conn = Connection.objects.get(pk=conn.pk)
    if now.time() < time(23, 59):
        assert health(conn).status == ConnectionStatus.MAINTENANCE
    conn.paused, conn.paused_reason = True, "vendor incident"
    assert health(conn).status == ConnectionStatus.PAUSED


@pytest.mark.django_db
def test_a_past_window_does_not_hold():
    conn = make()
    now = timezone.now()
    MaintenanceWindow.objects.create(
        connection=conn, kind="one_off", starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1)
    )
    assert health(conn).status == ConnectionStatus.UNVERIFIED


@pytest.mark.django_db
def test_throttling_in_the_last_hour_degrades_a_healthy_connection():
    from integrations.deliveries.models import ThrottleEvent

    conn = make()
    Connection.objects.filter(pk=conn.pk).update(last_check_at=timezone.now(), last_check_ok=True)
    conn.refresh_from_db()
    ThrottleEvent.objects.create(connection=conn)
    assert health(conn).status == ConnectionStatus.DEGRADED


@pytest.mark.django_db
def test_periodic_check_marks_an_unreachable_connection_offline(settings):
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = ["http://127.0.0.1:9"]
    conn = make(base_url="http://127.0.0.1:9")
    make(name="inbound", kind="generic_webhook", base_url="", config={})
    assert tasks.check_connections.run() == 1  # the inbound-only one has nothing to call
    tasks.check_connection.run(conn.pk)
    conn.refresh_from_db()
    assert conn.last_check_ok is False and "Could not connect" in conn.last_check_error
    assert health(conn).status == ConnectionStatus.OFFLINE


@pytest.mark.django_db
def test_demo_creates_one_sandbox_connection_per_registered_vendor_idempotently(settings, monkeypatch):
    from integrations.connectors import registry

    settings.SWITCHBOARD_SANDBOX_ORIGIN = "http://127.0.0.1:8765"
    monkeypatch.setattr(demo, "seed_sandbox_data", lambda vendor, stdout: None)  # seeding is the vendors' tests
    out = io.StringIO()
    demo.seed(out)
    vendors = [v for v in demo.SANDBOXES if v in registry.CONNECTORS]
    assert sorted(Connection.objects.values_list("name", flat=True)) == sorted(vendors)
    for conn in Connection.objects.all():
        assert conn.base_url == f"http://127.0.0.1:8765/sandbox/{conn.name}" and conn.environment == "sandbox"
        stored = conn.get_credentials()
        assert all(stored.values()), f"{conn.name}: empty secret"
    if "dynamics" in vendors:
        dynamics = Connection.objects.get(name="dynamics")
        assert dynamics.get_credentials()["client_secret"] == sandbox_credentials("dynamics")["client_secret"]
    before = list(Connection.objects.values_list("name", "updated_at"))
    demo.seed(out)
    assert list(Connection.objects.values_list("name", "updated_at")) == before


@pytest.mark.django_db
def test_an_open_circuit_shows_the_connection_offline_until_it_closes():
    conn = make()
    Connection.objects.filter(pk=conn.pk).update(last_check_at=timezone.now(), last_check_ok=True)
    conn.refresh_from_db()
    assert health(conn).status == ConnectionStatus.HEALTHY
    conn.circuit_open_until = timezone.now() + timedelta(minutes=2)
    held = health(conn)
    assert held.status == ConnectionStatus.OFFLINE and held.detail.startswith("circuit open until")
    conn.circuit_open_until = timezone.now() - timedelta(seconds=1)  # half-open: probing
    assert health(conn).status == ConnectionStatus.HEALTHY
