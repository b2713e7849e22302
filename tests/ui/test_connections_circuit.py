"""Circuit breaker settings on the connection form (round-trip, kept on edit, validated)
and the manual "Close circuit now" action."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.audit.models import AuditEntry
from integrations.connections.models import Connection
from integrations.connections.services import create_connection
from integrations.flows.models import Flow, FlowVersion

from .test_connections import create_payload


def make(**config):
    return create_connection(
        "system:test",
        name="crm",
        kind="generic_rest",
        base_url="https://api.example.com",
        config={"auth_type": "header", **config},
        credentials={"api_key": "tok-123"},
    )


def as_browser_submits(response) -> dict:
    """The edit form posted back unchanged: every field with the value the page rendered."""
    form = response.context["form"]
    data = {"kind": "generic_rest"}
    for bound in form:
        value = bound.value()
        if value is None or value is False:
            continue
        data[bound.name] = value
    return data


def open_circuit(connection, minutes=5):
    until = timezone.now() + timedelta(minutes=minutes)
    Connection.objects.filter(pk=connection.pk).update(circuit_open_until=until, circuit_opens=2)
    return until


@pytest.mark.django_db
def test_circuit_settings_round_trip_with_the_defaults_as_placeholders(client_for, settings):
    settings.SWITCHBOARD_CIRCUIT_THRESHOLD = 7
    analyst = client_for("analyst")
    page = analyst.get(reverse("connections:new") + "?kind=generic_rest").content.decode()
    assert 'data-testid="conn-reliability"' in page and 'placeholder="default: 7"' in page
    payload = create_payload(circuit_threshold="3", circuit_cooldown_seconds="60", circuit_max_cooldown_seconds="")
    assert analyst.post(reverse("connections:new"), payload).status_code == 302
    conn = Connection.objects.get(name="billing")
    assert conn.config["circuit_threshold"] == 3 and conn.config["circuit_cooldown_seconds"] == 60
    assert "circuit_max_cooldown_seconds" not in conn.config  # blank: the global default applies
    edit = analyst.get(reverse("connections:edit", args=["billing"]))
    assert edit.context["form"]["circuit_threshold"].value() == 3
    detail = analyst.get(reverse("connections:detail", args=["billing"])).content.decode()
    assert "opens after 3 consecutive failures; held 60 s, doubling up to 600 s" in detail


@pytest.mark.django_db
def test_an_edit_keeps_circuit_settings_and_config_keys_the_form_does_not_show(client_for):
    make(circuit_threshold=2, circuit_cooldown_seconds=45, set_by_script="keep me")
    analyst = client_for("analyst")
    data = as_browser_submits(analyst.get(reverse("connections:edit", args=["crm"])))
    data["label"] = "CRM"
    response = analyst.post(reverse("connections:edit", args=["crm"]), data)
    assert response.status_code == 302, response.context["form"].errors
    conn = Connection.objects.get(name="crm")
    assert conn.label == "CRM"
    assert conn.config["circuit_threshold"] == 2 and conn.config["circuit_cooldown_seconds"] == 45
    assert conn.config["set_by_script"] == "keep me"
    data["circuit_threshold"] = ""  # clearing a field returns to the default
    analyst.post(reverse("connections:edit", args=["crm"]), data)
    conn.refresh_from_db()
    assert "circuit_threshold" not in conn.config and conn.config["set_by_script"] == "keep me"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("circuit_threshold", "-1"),
        ("circuit_threshold", "many"),
        ("circuit_cooldown_seconds", "0"),
        ("circuit_max_cooldown_seconds", "10"),  # below the default cooldown of 30 s
    ],
)
def test_bad_circuit_settings_are_form_errors_naming_the_field(client_for, field, value):
    response = client_for("analyst").post(reverse("connections:new"), create_payload(**{field: value}))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert not Connection.objects.filter(name="billing").exists()


@pytest.mark.django_db
def test_max_cooldown_below_the_cooldown_names_both_values(client_for):
    payload = create_payload(circuit_cooldown_seconds="120", circuit_max_cooldown_seconds="60")
    errors = client_for("analyst").post(reverse("connections:new"), payload).context["form"].errors
    assert errors["circuit_max_cooldown_seconds"] == ["Must be at least the cooldown (120 s)."]


@pytest.mark.django_db
def test_circuit_settings_of_a_used_connection_need_no_repoint_confirmation(client_for):
    make()
    flow = Flow.objects.create(key="won-to-project", name="Won")
    FlowVersion.objects.create(flow=flow, definition={"trigger": {"connection": "crm"}})
    analyst = client_for("analyst")
    url = reverse("connections:edit", args=["crm"])
    # A first save fills in the connector's defaults, which counts as a settings change.
    assert analyst.post(url, {**as_browser_submits(analyst.get(url)), "confirm": "1"}).status_code == 302
    data = as_browser_submits(analyst.get(url))
    data["circuit_threshold"] = "9"
    assert analyst.post(reverse("connections:edit", args=["crm"]), data).status_code == 302
    assert Connection.objects.get(name="crm").config["circuit_threshold"] == 9


@pytest.mark.django_db
def test_close_circuit_now_closes_audits_and_is_offered_only_while_open(client_for, personas):
    conn = make()
    analyst = client_for("analyst")
    detail = reverse("connections:detail", args=["crm"])
    assert 'data-testid="conn-close-circuit"' not in analyst.get(detail).content.decode()
    open_circuit(conn)
    page = analyst.get(detail).content.decode()
    assert 'data-testid="conn-close-circuit"' in page
    assert 'data-testid="conn-close-circuit"' not in client_for("viewer").get(detail).content.decode()
    listing = analyst.get(reverse("connections:list")).content.decode()
    assert 'data-testid="circuit-open-crm"' in listing

    response = analyst.post(reverse("connections:close_circuit", args=["crm"]), follow=True)
    assert "Circuit closed: held deliveries drain in order." in response.content.decode()
    conn.refresh_from_db()
    assert conn.circuit_open_until is None and conn.circuit_opens == 0
    entry = AuditEntry.objects.get(action="connection.circuit_closed")
    assert entry.actor == personas["analyst"]
    assert 'data-testid="circuit-open-crm"' not in analyst.get(reverse("connections:list")).content.decode()
    again = analyst.post(reverse("connections:close_circuit", args=["crm"]), follow=True)
    assert "The circuit was not open." in again.content.decode()
    assert AuditEntry.objects.filter(action="connection.circuit_closed").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["viewer", "operator", "approver", "outsider"])
def test_roles_without_manage_connections_cannot_close_a_circuit(client_for, persona):
    conn = make()
    until = open_circuit(conn)
    response = client_for(persona).post(reverse("connections:close_circuit", args=["crm"]))
    assert response.status_code == 403
    conn.refresh_from_db()
    assert conn.circuit_open_until == until


@pytest.mark.django_db
def test_close_circuit_is_post_only(client_for):
    make()
    assert client_for("analyst").get(reverse("connections:close_circuit", args=["crm"])).status_code == 405
