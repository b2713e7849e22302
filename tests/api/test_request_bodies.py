"""Hostile bodies on every JSON entry point: nesting past the limit is a 400 naming it, a
body over the size limit is a 413 naming it, a body that is not an object is a 400 naming
the body — each a problem document, never a 500, and nothing is stored."""

import json
import time

import pytest
from django.test import Client

from integrations.connections.models import Connection, MaintenanceWindow
from integrations.connectors.webhooks import standard_signature
from integrations.events.models import Event
from integrations.flows.models import Flow
from studio.api.json_body import loads
from tests.api.runtime_fixtures import *  # noqa: F403
from tests.api.runtime_fixtures import PROBLEM
from tests.api.test_invoke_api import RATE_CHECK
from tests.api.wsgi_client import WsgiClient
from tests.runtime.conftest import WEBHOOK_SECRET, publish_flow

pytestmark = pytest.mark.django_db
LIMIT = 64  # settings.SWITCHBOARD_JSON_MAX_DEPTH's default
TWELVE_MB = 12 * 1000 * 1000


def nested(levels: int):
    """A JSON value nesting `levels` containers: nested(1) == {}."""
    value: dict | list = {}
    for n in range(levels - 1):
        value = {"a": value} if n % 2 else [value]
    return value


def deep_object(levels: int) -> bytes:
    """A JSON object nesting `levels` deep, written out (json.dumps itself recurses)."""
    return b'{"a":' * (levels - 1) + b"{}" + b"}" * (levels - 1)


def event(payload) -> dict:
    return {"connection": "crm", "type": "invoice.approved", "external_id": "evt-1", "payload": payload}


@pytest.fixture
def admin(token_client):
    """Allowed everything, so what answers is the body check, not a role check."""
    key = token_client("admin").defaults["HTTP_AUTHORIZATION"]
    return Client(HTTP_AUTHORIZATION=key, raise_request_exception=False)


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["detail"]
    return body


def assert_too_deep(response) -> None:
    body = assert_problem(response, 400)
    assert body["type"] == "urn:switchboard:problem:too-deep"
    assert f"deeper than {LIMIT} levels" in body["detail"]


# --- nesting ---------------------------------------------------------------------------------


def test_the_reader_counts_levels_and_refuses_past_the_limit():
    assert loads(json.dumps(nested(LIMIT))) == nested(LIMIT)
    for levels in (LIMIT + 1, 1000, 100_000):
        with pytest.raises(ValueError, match=f"deeper than {LIMIT} levels"):
            loads(b"[" * levels + b"]" * levels)
    # brackets inside strings are text, not nesting
    assert loads(json.dumps({"s": "[" * 500})) == {"s": "[" * 500}
    with pytest.raises(ValueError, match="NaN"):
        loads(b'{"a": NaN}')


def test_an_event_nested_to_the_limit_is_stored_one_level_more_is_refused(admin, invoice_flow):
    # the event body is one level around its payload
    assert admin.post("/api/v1/events/", event(nested(LIMIT - 1)), content_type="application/json").status_code == 202
    assert Event.objects.get().payload == nested(LIMIT - 1)
    too_deep = {**event(nested(LIMIT)), "external_id": "evt-2"}
    assert_too_deep(admin.post("/api/v1/events/", too_deep, content_type="application/json"))
    assert Event.objects.count() == 1


def test_an_event_nested_1000_deep_is_400_not_a_500(admin, invoice_flow):
    body = b'{"connection": "crm", "type": "x", "external_id": "e", "payload": ' + deep_object(1000) + b"}"
    assert_too_deep(admin.post("/api/v1/events/", body, content_type="application/json"))
    assert Event.objects.count() == 0


@pytest.fixture
def everything(invoice_flow, erp_offline, personas):
    """A flow that can be invoked, a connection to edit."""
    publish_flow(personas["analyst"], RATE_CHECK, key="rates")


JSON_ENTRY_POINTS = [
    ("post", "/api/v1/events/"),
    ("post", "/api/v1/events/replay/"),
    ("post", "/api/v1/flows/"),
    ("patch", "/api/v1/flows/invoices/"),
    ("put", "/api/v1/flows/invoices/draft/"),
    ("post", "/api/v1/flows/invoices/validate/"),
    ("post", "/api/v1/flows/invoices/test-run/"),
    ("post", "/api/v1/flows/invoices/run/"),
    ("post", "/api/v1/flows/rates/invoke"),
    ("post", "/api/v1/connections/"),
    ("patch", "/api/v1/connections/erp/"),
    ("post", "/api/v1/connections/erp/windows/"),
    ("post", "/api/v1/exceptions/1/resubmit/"),
    ("post", "/api/v1/exceptions/bulk/"),
    ("post", "/api/v1/approvals/1/decide/"),
    ("patch", "/api/v1/me/"),
]


@pytest.mark.parametrize(("method", "url"), JSON_ENTRY_POINTS)
def test_every_api_entry_point_refuses_deep_json_before_storing_anything(admin, everything, method, url):
    before = (
        Event.objects.count(),
        Flow.objects.count(),
        Connection.objects.count(),
        MaintenanceWindow.objects.count(),
    )
    for levels in (LIMIT + 1, 1000):
        assert_too_deep(getattr(admin, method)(url, deep_object(levels), content_type="application/json"))
    after = (Event.objects.count(), Flow.objects.count(), Connection.objects.count(), MaintenanceWindow.objects.count())
    assert after == before


def test_the_invoke_gateway_refuses_deep_json_like_the_view(everything, admin):
    gateway = WsgiClient(HTTP_AUTHORIZATION=admin.defaults["HTTP_AUTHORIZATION"])
    assert gateway.post("/api/v1/flows/rates/invoke", {"role": "a", "hourly_rate": 240}).status_code == 200
    for levels in (LIMIT + 1, 1000):
        response = gateway.post("/api/v1/flows/rates/invoke", deep_object(levels))
        assert response.status_code == 400 and response["Content-Type"] == PROBLEM
        assert response.json()["type"] == "urn:switchboard:problem:too-deep"


def signed_hook(client, body: bytes, msg_id: str = "msg_1"):
    stamp = str(int(time.time()))
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": standard_signature(WEBHOOK_SECRET, msg_id, stamp, body),
    }
    return client.post("/hooks/crm/", body, content_type="application/json", headers=headers)


def test_a_signed_webhook_nested_too_deep_is_400_and_not_stored(invoice_flow):
    client = Client(raise_request_exception=False)
    for levels in (LIMIT + 1, 1000):
        body = b'{"type": "invoice.approved", "data": ' + deep_object(levels - 1) + b"}"
        response = signed_hook(client, body)
        assert response.status_code == 400 and response["Content-Type"] == PROBLEM
        assert f"deeper than {LIMIT} levels" in response.json()["detail"]
    assert Event.objects.count() == 0


# --- size ------------------------------------------------------------------------------------


def assert_too_large(response) -> None:
    body = assert_problem(response, 413)
    assert "2621440 bytes" in body["detail"] and "2.5 MiB" in body["detail"]  # DATA_UPLOAD_MAX_MEMORY_SIZE
    assert body["errors"]["body"]


def test_a_12_mb_event_is_413_naming_the_limit(admin, invoice_flow):
    body = json.dumps(event({"blob": "x" * TWELVE_MB})).encode()
    assert_too_large(admin.post("/api/v1/events/", body, content_type="application/json"))
    assert Event.objects.count() == 0


def test_a_12_mb_webhook_or_invoke_is_413_too(admin, everything):
    big = json.dumps({"type": "invoice.approved", "data": {"blob": "x" * TWELVE_MB}}).encode()
    assert_too_large(signed_hook(Client(raise_request_exception=False), big))
    gateway = WsgiClient(HTTP_AUTHORIZATION=admin.defaults["HTTP_AUTHORIZATION"])
    response = gateway.post("/api/v1/flows/rates/invoke", big)
    assert response.status_code == 413 and response["Content-Type"] == PROBLEM
    assert Event.objects.count() == 0


# --- bodies that are not objects ---------------------------------------------------------------

NOT_OBJECTS = [([1, 2], "an array"), (None, "null"), (True, "a boolean"), (3, "a number"), ("kind", "a string")]


@pytest.mark.parametrize(("body", "named"), NOT_OBJECTS)
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/connections/"),
        ("patch", "/api/v1/connections/erp/"),
        ("post", "/api/v1/connections/erp/windows/"),
    ],
)
def test_connection_writes_with_a_body_that_is_not_an_object_are_400_naming_the_body(
    admin, erp_offline, method, url, body, named
):
    response = getattr(admin, method)(url, json.dumps(body), content_type="application/json")
    problem = assert_problem(response, 400)
    assert problem["errors"] == {"body": [f"Expected a JSON object, got {named}."]}
    assert Connection.objects.count() == 1 and MaintenanceWindow.objects.count() == 0


@pytest.mark.parametrize(("body", "_named"), NOT_OBJECTS)
@pytest.mark.parametrize(("method", "url"), JSON_ENTRY_POINTS)
def test_no_entry_point_answers_500_to_a_body_that_is_not_an_object(admin, everything, method, url, body, _named):
    response = getattr(admin, method)(url, json.dumps(body), content_type="application/json")
    assert_problem(response, 400)


# --- NUL characters ----------------------------------------------------------------------------


def test_a_nul_character_in_any_string_is_refused_an_escaped_backslash_is_not():
    from studio.api.json_body import loads as read

    for body in (b'{"a": "x\\u0000"}', b'{"\\u0000": 1}', b'[["\\u0000"]]'):
        with pytest.raises(ValueError, match="NUL character"):
            read(body)
    assert read(b'{"a": "\\\\u0000"}') == {"a": "\\u0000"}  # a backslash, then the text u0000


@pytest.mark.parametrize(("method", "url"), JSON_ENTRY_POINTS)
def test_every_api_entry_point_refuses_a_nul_character_before_storing_anything(admin, everything, method, url):
    """PostgreSQL cannot store U+0000 in a JSON column: it was a 500 there (found by schemathesis)."""
    before = (Event.objects.count(), Flow.objects.count(), Connection.objects.count())
    body = {**event({"note": "a\u0000b"}), "record": {"a\u0000": 1}, "definition": {"x": "\u0000"}}
    response = getattr(admin, method)(url, json.dumps(body), content_type="application/json")
    problem = assert_problem(response, 400)
    assert problem["type"] == "urn:switchboard:problem:nul-character"
    assert (Event.objects.count(), Flow.objects.count(), Connection.objects.count()) == before


def test_a_signed_webhook_with_a_nul_character_is_400(invoice_flow):
    body = json.dumps({"type": "invoice.approved", "data": {"id": "INV-\u0000"}}).encode()
    response = signed_hook(Client(raise_request_exception=False), body)
    assert response.status_code == 400 and "NUL character" in response.json()["detail"]
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/events/?source=a%00",
        "/api/v1/runs/?business_key=%00",
        "/api/v1/exceptions/?q=a%00b",
        "/api/v1/approvals/?scope=all&status=%00",
        "/api/v1/flows/a%00/",
        "/api/v1/connections/a%00/",
    ],
)
def test_a_nul_character_in_the_url_is_400_not_a_database_error(admin, url):
    """Every filter and lookup with one was a 500 on PostgreSQL."""
    assert assert_problem(admin.get(url), 400)["type"] == "urn:switchboard:problem:nul-character"
