"""A read answered 2xx with a body that is not a JSON object is the vendor's mistake, reported
as a permanent ConnectorError naming the call, never handed on as a record. The connection is
a plain namespace: connectors need only what ConnectionSettings names."""

from types import SimpleNamespace

import httpx
import pytest

from integrations.connectors import http as http_module
from integrations.connectors.errors import ConnectorError
from integrations.connectors.http import HttpClient
from integrations.connectors.hubspot import HubSpotConnector
from integrations.connectors.salesforce import SalesforceConnector

BASE = "https://crm.vendor.test"


def connection(kind: str, credentials: dict) -> SimpleNamespace:
    return SimpleNamespace(
        pk=1,
        name=f"{kind}-1",
        kind=kind,
        base_url=BASE,
        allowed_hosts=[],
        config={"client_id": "id"},
        has_credentials=True,
        get_credentials=lambda: credentials,
    )


def answering(body: bytes, content_type: str = "application/json") -> HttpClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "tok", "instance_url": BASE})
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    return HttpClient(base_url=BASE, transport=httpx.MockTransport(handler))


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    monkeypatch.setattr(http_module, "resolve", lambda host, port: ["93.184.216.34"])


@pytest.mark.parametrize(
    ("connector_class", "credentials", "object_name"),
    [
        (HubSpotConnector, {"access_token": "pat-1"}, "deals"),
        (SalesforceConnector, {"client_secret": "s"}, "Account"),
    ],
)
@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        (b'[{"id": "1"}]', "application/json", "not a JSON object"),
        (b"<html>busy</html>", "text/html", "without a JSON"),
    ],
)
def test_a_read_answered_without_a_json_object_is_a_permanent_error(
    db, connector_class, credentials, object_name, body, content_type, says
):
    connector = connector_class(connection(connector_class.kind, credentials), http=answering(body, content_type))
    with pytest.raises(ConnectorError, match=says) as caught:
        connector.read(object_name, "1")
    assert caught.value.kind == "permanent" and caught.value.status_code == 200
