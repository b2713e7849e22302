"""Connections over the API: readable by every role, secrets never returned, Test needs
manage_connections; connector kinds describe their fields and objects."""

import json

import pytest

from integrations.connections.models import Connection
from integrations.connections.services import create_connection

SECRET = "api-Canary-99812-secret"


@pytest.fixture
def conn(db):
    return create_connection(
        "system:test",
        name="crm",
        kind="generic_rest",
        base_url="https://10.9.9.9",
        config={"auth_type": "header", "objects": {"clients": {"path": "/clients"}}},
        credentials={"api_key": SECRET},
    )


def test_list_and_detail_never_return_secrets(client_for, conn):
    viewer = client_for("viewer")
    listing = viewer.get("/api/v1/connections/")
    assert listing.status_code == 200
    assert [c["name"] for c in listing.json()] == ["crm"]
    detail = viewer.get("/api/v1/connections/crm/").json()
    assert detail["secrets_set"] == ["api_key"] and detail["status"] == "unverified"
    assert [o["name"] for o in detail["objects"]] == ["clients"]  # generic: declared on the connection
    assert SECRET not in listing.content.decode() + json.dumps(detail)


def test_test_action_needs_manage_connections_and_reports_the_reason(client_for, conn):
    assert client_for("viewer").post("/api/v1/connections/crm/test/").status_code == 403
    response = client_for("analyst").post("/api/v1/connections/crm/test/")
    body = response.json()
    assert response.status_code == 200 and body["ok"] is False and body["status"] == "offline"
    assert "private or local address" in body["message"]


def test_connector_kinds_describe_fields_and_objects(client_for, db):
    kinds = {k["kind"]: k for k in client_for("analyst").get("/api/v1/connectors/").json()}
    generic = kinds["generic_rest"]
    assert {f["name"] for f in generic["auth_fields"]} == {"api_key", "password", "client_secret"}
    assert kinds["generic_webhook"]["inbound_only"] is True
    with_objects = [k for k in kinds.values() if k["objects"]]
    for kind in with_objects:
        for obj in kind["objects"]:
            assert obj["actions"] and all("name" in f for f in obj["fields"])


def test_outsider_and_anonymous_are_refused(client_for, client, conn):
    assert client_for("outsider").get("/api/v1/connections/").status_code == 403
    assert client.get("/api/v1/connections/").status_code in (401, 403)


def test_create_patch_delete_with_write_only_credentials(client_for, db):
    analyst = client_for("analyst")
    body = {
        "name": "billing",
        "kind": "generic_rest",
        "base_url": "https://billing.example.com",
        "config": {"auth_type": "header", "objects": {"invoices": {"path": "/invoices"}}},
        "credentials": {"api_key": SECRET},
        "rate_limit_requests": 20,
        "allowed_hosts": ["auth.example.com"],
    }
    created = analyst.post("/api/v1/connections/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["secrets_set"] == ["api_key"] and SECRET not in created.content.decode()
    from integrations.connections.models import Connection

    conn = Connection.objects.get(name="billing")
    assert conn.get_credentials() == {"api_key": SECRET} and conn.config["objects"]["invoices"]["path"] == "/invoices"
    patched = analyst.patch(
        "/api/v1/connections/billing/", {"label": "Billing", "max_concurrency": 2}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["label"] == "Billing"
    conn.refresh_from_db()
    assert conn.get_credentials() == {"api_key": SECRET} and conn.config["auth_type"] == "header"
    assert analyst.delete("/api/v1/connections/billing/").status_code == 204
    assert not Connection.objects.filter(name="billing").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "nope", "base_url": "https://x.example.com"}, "kind"),
        ({"name": "x", "kind": "generic_rest", "base_url": "ftp://x", "config": {"auth_type": "none"}}, "base_url"),
        (
            {
                "name": "x",
                "kind": "generic_rest",
                "base_url": "https://x.example.com",
                "config": {"auth_type": "none", "objects": {"a": {}}},
            },
            "config.objects",
        ),
        ({"name": "x", "kind": "generic_rest", "base_url": "https://x.example.com", "password": "p"}, "password"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(client_for, db, body, field):
    response = client_for("admin").post("/api/v1/connections/", body, content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]


def test_writes_need_manage_connections_and_used_connections_are_guarded(client_for, conn):
    from integrations.flows.models import Flow, FlowVersion

    assert (
        client_for("operator")
        .patch("/api/v1/connections/crm/", {"label": "x"}, content_type="application/json")
        .status_code
        == 403
    )
    flow = Flow.objects.create(key="won-to-project", name="Won")
    FlowVersion.objects.create(flow=flow, definition={"trigger": {"connection": "crm"}})
    admin = client_for("admin")
    assert admin.delete("/api/v1/connections/crm/").status_code == 409
    moved = admin.patch(
        "/api/v1/connections/crm/", {"base_url": "https://other.example.com"}, content_type="application/json"
    )
    assert moved.status_code == 409 and "won-to-project" in moved.json()["detail"]
    confirmed = admin.patch(
        "/api/v1/connections/crm/",
        {"base_url": "https://other.example.com", "confirm": True},
        content_type="application/json",
    )
    assert confirmed.status_code == 200 and confirmed.json()["base_url"] == "https://other.example.com"


def test_maintenance_windows_over_the_api(client_for, conn):
    admin = client_for("admin")
    url = "/api/v1/connections/crm/windows/"
    weekly = {"kind": "weekly", "weekday": 6, "start_time": "22:00", "end_time": "02:00", "timezone": "Europe/Berlin"}
    response = admin.post(url, weekly, content_type="application/json")
    assert response.status_code == 201 and response.json()[0]["description"].startswith("Every Saturday 22:00")
    bad = admin.post(
        url,
        {"kind": "one_off", "starts_at": "2026-01-02T10:00", "ends_at": "2026-01-01T10:00", "timezone": "UTC"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "ends_at" in bad.json()["errors"]
    assert client_for("viewer").post(url, weekly, content_type="application/json").status_code == 403
    window_id = admin.get("/api/v1/connections/crm/").json()["maintenance_windows"][0]["id"]
    assert admin.delete(f"{url}{window_id}/").status_code == 204
    assert admin.get(url).json() == []


def test_an_open_circuit_shows_until_when_deliveries_are_held(client_for, conn):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.connections.models import Connection

    viewer = client_for("viewer")
    assert viewer.get("/api/v1/connections/crm/").json()["circuit_held_until"] is None
    until = timezone.now() + timedelta(minutes=5)
    Connection.objects.filter(pk=conn.pk).update(circuit_open_until=until)
    held = viewer.get("/api/v1/connections/crm/").json()["circuit_held_until"]
    assert held is not None and held.startswith(until.strftime("%Y-%m-%dT%H:%M"))


def test_circuit_settings_are_read_and_written_and_kept_by_other_patches(client_for, conn):
    from integrations.connections.models import Connection

    analyst = client_for("analyst")
    url = "/api/v1/connections/crm/"
    before = analyst.get(url).json()
    assert before["circuit_threshold"] is None and before["circuit_cooldown_seconds"] is None  # the defaults
    patched = analyst.patch(
        url, {"circuit_threshold": 3, "circuit_cooldown_seconds": 90}, content_type="application/json"
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["circuit_threshold"] == 3 and patched.json()["circuit_cooldown_seconds"] == 90
    assert analyst.patch(url, {"label": "CRM"}, content_type="application/json").status_code == 200
    config = Connection.objects.get(name="crm").config
    assert config["circuit_threshold"] == 3 and config["circuit_cooldown_seconds"] == 90
    assert config["objects"] == {"clients": {"path": "/clients"}}
    # The documented `config` spelling sets the same field; null returns to the default.
    analyst.patch(url, {"config": {"circuit_max_cooldown_seconds": 900}}, content_type="application/json")
    analyst.patch(url, {"circuit_threshold": None}, content_type="application/json")
    body = analyst.get(url).json()
    assert body["circuit_threshold"] is None and body["circuit_max_cooldown_seconds"] == 900


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"circuit_threshold": -1}, "circuit_threshold"),
        ({"circuit_threshold": "lots"}, "circuit_threshold"),
        ({"circuit_cooldown_seconds": 0}, "circuit_cooldown_seconds"),
        ({"circuit_cooldown_seconds": 300, "circuit_max_cooldown_seconds": 60}, "circuit_max_cooldown_seconds"),
    ],
)
def test_bad_circuit_settings_are_a_problem_naming_the_field(client_for, conn, body, field):
    response = client_for("admin").patch("/api/v1/connections/crm/", body, content_type="application/json")
    assert response.status_code == 400 and list(response.json()["errors"]) == [field]
    conn.refresh_from_db()
    assert "circuit_threshold" not in conn.config and "circuit_max_cooldown_seconds" not in conn.config


def test_close_circuit_action(client_for, personas, conn):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.audit.models import AuditEntry
    from integrations.connections.models import Connection

    url = "/api/v1/connections/crm/close-circuit/"
    assert client_for("analyst").post(url).status_code == 409  # not open
    Connection.objects.filter(pk=conn.pk).update(circuit_open_until=timezone.now() + timedelta(minutes=5))
    assert client_for("operator").post(url).status_code == 403
    assert client_for("viewer").post(url).status_code == 403
    response = client_for("analyst").post(url)
    assert response.status_code == 200 and response.json()["circuit_held_until"] is None
    assert Connection.objects.get(pk=conn.pk).circuit_open_until is None
    assert AuditEntry.objects.get(action="connection.circuit_closed").actor == personas["analyst"]


def test_a_connection_that_received_events_is_kept_with_a_409_naming_them(client_for, conn):
    """Events refer to the connection they came through and are history: deleting the
    connection is refused like a connection in use (409, not a 500), and the events stay."""
    from integrations.events.models import Event

    for n in range(3):
        Event.objects.create(connection=conn, source="crm", type="client.created", external_id=f"e{n}")
    response = client_for("admin").delete("/api/v1/connections/crm/")
    assert response.status_code == 409 and response["Content-Type"] == "application/problem+json"
    assert "3 events" in response.json()["detail"]
    assert Event.objects.filter(connection=conn).count() == 3


def test_an_edit_racing_a_delete_is_404_not_500(client_for, conn, monkeypatch):
    """Two clients: one deletes the connection while the other's PATCH is between reading
    it and writing it (found by schemathesis on PostgreSQL)."""
    from studio.api.views.connections import ConnectionViewSet

    read = ConnectionViewSet.get_object

    def read_then_lose_it(view):
        found = read(view)
        Connection.objects.filter(pk=found.pk).delete()
        return found

    monkeypatch.setattr(ConnectionViewSet, "get_object", read_then_lose_it)
    admin = client_for("admin")
    admin.raise_request_exception = False
    response = admin.patch("/api/v1/connections/crm/", {"label": "CRM"}, content_type="application/json")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert "deleted meanwhile" in response.json()["detail"]
