"""Connection pages: roles, create/edit from connector fields, write-only credentials,
Test connection, maintenance windows and status, guarded delete."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.audit.models import AuditEntry
from integrations.connections.models import Connection, MaintenanceWindow
from integrations.connections.services import create_connection

SECRET = "tok-Canary-5521-very-secret"


def make(name="crm", base_url="https://api.example.com", **config):
    return create_connection(
        "system:test",
        name=name,
        kind="generic_rest",
        base_url=base_url,
        config={"auth_type": "header", **config},
        credentials={"api_key": SECRET},
    )


def create_payload(**over):
    data = {
        "kind": "generic_rest",
        "name": "billing",
        "label": "Billing API",
        "environment": "test",
        "base_url": "https://billing.example.com/api",
        "allowed_hosts": "auth.example.com",
        "rate_limit_requests": "10",
        "rate_limit_interval_seconds": "1",
        "max_concurrency": "4",
        "max_attempts": "8",
        "timezone": "Europe/Berlin",
        "config__auth_type": "header",
        "config__auth_header_name": "Authorization",
        "config__auth_header_prefix": "Bearer ",
        "config__test_path": "/ping",
        "secret__api_key": SECRET,
    }
    return {**data, **over}


@pytest.mark.django_db
def test_viewer_reads_but_cannot_change(client_for):
    make()
    viewer = client_for("viewer")
    assert viewer.get(reverse("connections:list")).status_code == 200
    assert viewer.get(reverse("connections:detail", args=["crm"])).status_code == 200
    assert viewer.get(reverse("connections:new")).status_code == 403
    assert viewer.post(reverse("connections:test", args=["crm"])).status_code == 403
    assert viewer.post(reverse("connections:delete", args=["crm"])).status_code == 403
    assert client_for("outsider").get(reverse("connections:detail", args=["crm"])).status_code == 403
    assert Connection.objects.filter(name="crm").exists()


@pytest.mark.django_db
def test_kind_picker_lists_the_registry(client_for):
    page = client_for("analyst").get(reverse("connections:new")).content.decode()
    assert 'data-testid="conn-kind-generic_rest"' in page and "Generic inbound webhook" in page


@pytest.mark.django_db
def test_create_stores_credentials_encrypted_and_never_shows_them(client_for):
    analyst = client_for("analyst")
    response = analyst.post(reverse("connections:new"), create_payload())
    assert response.status_code == 302
    conn = Connection.objects.get(name="billing")
    assert conn.get_credentials() == {"api_key": SECRET}
    assert SECRET not in conn.credentials_encrypted
    assert conn.allowed_hosts == ["auth.example.com"] and conn.timezone == "Europe/Berlin"
    assert conn.config["test_path"] == "/ping"
    for url in (
        reverse("connections:detail", args=["billing"]),
        reverse("connections:edit", args=["billing"]),
        reverse("connections:list"),
    ):
        page = analyst.get(url).content.decode()
        assert SECRET not in page
    assert "••••" in analyst.get(reverse("connections:detail", args=["billing"])).content.decode()
    entry = AuditEntry.objects.get(action="connection.created")
    assert SECRET not in str(entry.changes) and entry.actor.username == "analyst"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("base_url", "not a url"),
        ("name", "Has Spaces"),
        ("config__objects", "{nope"),
        ("allowed_hosts", "http://x/y"),
        ("max_concurrency", "0"),
        ("name", "new"),
    ],
)
def test_bad_input_is_a_form_error_naming_the_field(client_for, field, value):
    response = client_for("analyst").post(reverse("connections:new"), create_payload(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Connection.objects.filter(name="billing").exists()


@pytest.mark.django_db
def test_edit_keeps_a_blank_secret_and_replaces_a_typed_one(client_for):
    conn = make()
    conn.verified = True
    conn.save()
    analyst = client_for("analyst")
    data = create_payload(secret__api_key="", base_url="https://api.example.com")
    data.pop("name")
    assert analyst.post(reverse("connections:edit", args=["crm"]), data).status_code == 302
    conn.refresh_from_db()
    assert conn.get_credentials()["api_key"] == SECRET and conn.label == "Billing API"
    data["secret__api_key"] = "new-token-value"
    analyst.post(reverse("connections:edit", args=["crm"]), data)
    conn.refresh_from_db()
    assert conn.get_credentials()["api_key"] == "new-token-value"
    assert conn.verified is False  # new credentials: the old test proves nothing
    latest = AuditEntry.objects.filter(action="connection.updated").order_by("id").last()
    assert latest.changes["credentials"] == ["••••", "••••"]


@pytest.mark.django_db(transaction=True)
def test_test_connection_shows_ok_latency_then_failure_text(client_for, live_server, settings):
    settings.SWITCHBOARD_SANDBOX_ORIGIN = live_server.url
    conn = make("self", base_url=live_server.url, test_path="/login/")  # sends the secret as a header
    analyst = client_for("analyst")
    response = analyst.post(reverse("connections:test", args=["self"]), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert 'data-ok="true"' in page and 'data-status="healthy"' in page
    conn.refresh_from_db()
    assert conn.last_check_ok and conn.verified and conn.last_check_latency_ms is not None
    conn.config["test_path"] = "/sandbox/nowhere"
    conn.save()
    page = analyst.post(reverse("connections:test", args=["self"]), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-ok="false"' in page and "HTTP 404" in page and 'data-status="offline"' in page
    assert 'data-testid="conn-test-calls"' in page and "/sandbox/nowhere" in page
    assert SECRET not in page


@pytest.mark.django_db
def test_test_connection_to_a_private_address_is_refused_with_the_reason(client_for, settings):
    settings.SWITCHBOARD_SANDBOX_ORIGIN = "http://127.0.0.1:1"
    make("internal", base_url="https://10.1.2.3/api")
    page = (
        client_for("admin")
        .post(reverse("connections:test", args=["internal"]), HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "private or local address" in page
    assert Connection.objects.get(name="internal").last_check_ok is False


@pytest.mark.django_db
def test_maintenance_window_covering_now_puts_the_connection_in_maintenance(client_for):
    conn = make()
    now = timezone.now()
    analyst = client_for("analyst")
    response = analyst.post(
        reverse("connections:window_add", args=["crm"]),
        {
            "kind": "one_off",
            "timezone": "UTC",
            "note": "ERP upgrade",
            "starts_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'data-status="maintenance"' in response.content.decode()
    assert MaintenanceWindow.objects.filter(connection=conn).count() == 1
    assert AuditEntry.objects.filter(action="connection.window_added").exists()
    page = analyst.get(reverse("connections:list")).content.decode()
    assert "In maintenance" in page


@pytest.mark.django_db
def test_weekly_window_in_the_connection_time_zone(client_for):
    conn = make()
    response = client_for("analyst").post(
        reverse("connections:window_add", args=["crm"]),
        {
            "kind": "weekly",
            "weekday": "6",
            "start_time": "22:00",
            "end_time": "02:00",
            "timezone": "America/New_York",
        },
    )
    assert response.status_code == 302
    window = MaintenanceWindow.objects.get(connection=conn)
    assert (window.weekday, window.timezone, str(window.start_time)) == (6, "America/New_York", "22:00:00")


@pytest.mark.django_db
def test_bad_window_is_refused_naming_the_field(client_for):
    make()
    response = client_for("analyst").post(
        reverse("connections:window_add", args=["crm"]),
        {
            "kind": "one_off",
            "timezone": "UTC",
            "starts_at": "2026-01-02T10:00",
            "ends_at": "2026-01-01T10:00",
        },
    )
    assert response.status_code == 422
    assert "ends_at" in response.context["window_form"].errors
    assert not MaintenanceWindow.objects.exists()


@pytest.mark.django_db
def test_delete_is_refused_while_a_flow_uses_the_connection(client_for):
    from integrations.flows.models import Flow, FlowVersion

    make()
    flow = Flow.objects.create(key="won-to-project", name="Won to project")
    FlowVersion.objects.create(flow=flow, definition={"trigger": {"type": "event", "connection": "crm"}, "steps": []})
    admin = client_for("admin")
    response = admin.post(reverse("connections:delete", args=["crm"]))
    assert response.status_code == 409 and "won-to-project" in response.content.decode()
    assert Connection.objects.filter(name="crm").exists()
    flow.delete()
    assert admin.post(reverse("connections:delete", args=["crm"])).status_code == 302
    assert not Connection.objects.filter(name="crm").exists()
    assert AuditEntry.objects.filter(action="connection.deleted").exists()


@pytest.mark.django_db
def test_changing_where_a_used_connection_points_needs_confirmation_listing_the_flows(client_for):
    from integrations.flows.models import Flow, FlowVersion

    make()
    flow = Flow.objects.create(key="time-to-erp", name="Time to ERP")
    FlowVersion.objects.create(flow=flow, definition={"steps": [{"type": "deliver", "connection": "crm"}]})
    analyst = client_for("analyst")
    data = create_payload(base_url="https://other.example.com", secret__api_key="")
    data.pop("name")
    assert "time-to-erp" in analyst.get(reverse("connections:edit", args=["crm"])).content.decode()
    response = analyst.post(reverse("connections:edit", args=["crm"]), data)
    assert response.status_code == 200 and "tick the confirmation" in response.content.decode()
    assert Connection.objects.get(name="crm").base_url == "https://api.example.com"
    assert analyst.post(reverse("connections:edit", args=["crm"]), {**data, "confirm": "1"}).status_code == 302
    assert Connection.objects.get(name="crm").base_url == "https://other.example.com"


@pytest.mark.django_db
def test_pause_holds_and_resume_releases(client_for):
    """Pausing is the operator's job (role matrix: replay_events "replay events and pause
    connections"); the page shows them the form and the POST works for them."""
    make()
    viewer, operator = client_for("viewer"), client_for("operator")
    assert viewer.post(reverse("connections:pause", args=["crm"])).status_code == 403
    assert (
        'data-testid="conn-pause-form"' not in viewer.get(reverse("connections:detail", args=["crm"])).content.decode()
    )
    assert 'data-testid="conn-pause-form"' in operator.get(reverse("connections:detail", args=["crm"])).content.decode()
    operator.post(reverse("connections:pause", args=["crm"]), {"reason": "vendor incident"})
    conn = Connection.objects.get(name="crm")
    assert conn.paused and conn.paused_reason == "vendor incident"
    page = operator.get(reverse("connections:detail", args=["crm"])).content.decode()
    assert 'data-status="paused"' in page and 'data-testid="conn-held"' in page
    assert 'data-testid="conn-resume"' in page
    operator.post(reverse("connections:pause", args=["crm"]), {"resume": "1"})
    assert not Connection.objects.get(name="crm").paused


@pytest.mark.django_db
def test_a_connection_of_an_uninstalled_kind_still_shows_and_cannot_break_pages(client_for):
    Connection.objects.create(name="legacy", kind="sap_s4", base_url="https://sap.example.com")
    admin = client_for("admin")
    assert admin.get(reverse("connections:list")).status_code == 200
    assert admin.get(reverse("connections:detail", args=["legacy"])).status_code == 200
    assert admin.get(reverse("connections:edit", args=["legacy"])).status_code == 302
    page = admin.post(reverse("connections:test", args=["legacy"]), HTTP_HX_REQUEST="true").content.decode()
    assert "No connector of kind" in page and 'data-ok="false"' in page


@pytest.mark.django_db
def test_admin_injects_a_sandbox_fault_from_the_connection_page(client_for, settings):
    from integrations.sandboxes.models import SandboxFault

    settings.SWITCHBOARD_SANDBOXES_ENABLED = True
    settings.SWITCHBOARD_SANDBOX_ORIGIN = "http://127.0.0.1:8000"
    make("dyn", base_url="http://127.0.0.1:8000/sandbox/dynamics")
    admin, analyst = client_for("admin"), client_for("analyst")
    assert 'data-testid="conn-sandbox"' in admin.get(reverse("connections:detail", args=["dyn"])).content.decode()
    assert 'data-testid="conn-sandbox"' not in analyst.get(reverse("connections:detail", args=["dyn"])).content.decode()
    url = reverse("connections:sandbox_fault", args=["dyn"])
    assert analyst.post(url, {"kind": "status", "status_code": "503"}).status_code == 403
    admin.post(url, {"kind": "status", "status_code": "503", "count": "2", "message": "Planned outage"})
    fault = SandboxFault.objects.get(vendor="dynamics")
    assert (fault.status_code, fault.remaining, fault.body) == (503, 2, "Planned outage")
    response = admin.post(url, {"kind": "status", "status_code": "999"}, follow=True)
    assert "status_code: must be between" in response.content.decode()
    assert SandboxFault.objects.filter(vendor="dynamics").count() == 1
    # A connection to a real system has no sandbox controls.
    make("real", base_url="https://api.example.com")
    assert admin.post(reverse("connections:sandbox_fault", args=["real"]), {"kind": "throttle"}).status_code == 403


@pytest.mark.django_db
def test_admin_resets_the_sandbox_from_the_connection_page(client_for, settings, monkeypatch):
    from integrations.sandboxes import admin_api

    settings.SWITCHBOARD_SANDBOXES_ENABLED = True
    settings.SWITCHBOARD_SANDBOX_ORIGIN = "http://127.0.0.1:8000"
    sizes = []
    monkeypatch.setattr(admin_api, "seeder_for", lambda vendor: lambda size: sizes.append(size) or {"rows": 3})
    make("dyn", base_url="http://127.0.0.1:8000/sandbox/dynamics")
    response = client_for("admin").post(
        reverse("connections:sandbox_reset", args=["dyn"]), {"size": "test"}, follow=True
    )
    assert sizes == ["test"] and "3 records seeded" in response.content.decode()
