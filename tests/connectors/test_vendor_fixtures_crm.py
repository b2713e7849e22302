"""Contract fixtures written from the vendors' own documentation (tests/connectors/fixtures/
<vendor>/*.json, each citing its page), run against the connector (the documented answer
played back) and against the sandbox (the documented request sent over HTTP), so neither
can drift from the vendor unnoticed. See fixtures/README.md for the file format."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from integrations.connections.demo import demo_values
from integrations.connections.services import create_connection
from integrations.connectors import http as http_module
from integrations.connectors.errors import ConnectorError
from integrations.connectors.http import HttpClient
from integrations.connectors.registry import connector_class, get_connector
from integrations.sandboxes.admin_api import seeder_for
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.salesforce.auth import DAILY_MAX, set_api_usage
from tests.connectors.shapes import limit_sandbox

FIXTURES = Path(__file__).parent / "fixtures"
VENDORS = ("salesforce", "hubspot", "kantata")
BASE = "https://vendor.fixture.test"
CASES = sorted(p for vendor in VENDORS for p in (FIXTURES / vendor).glob("*.json"))
CREDENTIALS = {"salesforce": {"client_secret": "s"}, "hubspot": {"access_token": "pat-fixture"},
               "kantata": {"access_token": "fixture-token"}}  # fmt: skip


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def load(path: Path) -> dict[str, Any]:
    fixture = json.loads(path.read_text())
    assert fixture["source"].startswith("https://"), f"{case_id(path)} cites no documentation page"
    return fixture


def at(value: Any, path: str) -> Any:
    """`a.0.b`: keys, list indexes, attributes; `*` is an object's first value."""
    for part in [p for p in path.split(".") if p]:
        if part == "*":
            value = next(iter(value.values()))
        elif isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value[part]
        else:
            value = getattr(value, part)
    return value


# --- the connector, answered as the documentation says ---------------------------------------------
@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    monkeypatch.setattr(http_module, "resolve", lambda host, port: ["93.184.216.34"])


def replaying(documented: dict[str, Any], sent: list[httpx.Request]) -> HttpClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "tok", "instance_url": BASE})
        sent.append(request)
        return httpx.Response(documented["status"], headers=documented.get("headers") or {},
                              json=documented.get("json"))  # fmt: skip

    return HttpClient(base_url=BASE, transport=httpx.MockTransport(handler))


def sent_view(request: httpx.Request) -> dict[str, Any]:
    body = json.loads(request.content) if request.content else None
    return {"json": body, "query": dict(parse_qsl(urlsplit(str(request.url)).query))}


@pytest.mark.parametrize("path", CASES, ids=case_id)
def test_the_connector_makes_of_the_documented_answer_what_the_fixture_says(db, path):
    fixture, vendor = load(path), path.parent.name
    expect, sent = fixture["connector"], []
    connection = SimpleNamespace(pk=1, name=f"{vendor}-fixture", kind=vendor, base_url=BASE, allowed_hosts=[],
                                 config={"client_id": "id", **expect.get("config", {})}, has_credentials=True,
                                 get_credentials=lambda: CREDENTIALS[vendor])  # fmt: skip
    connector = connector_class(vendor)(connection, http=replaying(fixture["response"], sent))
    call = getattr(connector, expect["op"])
    if "raises" in expect:
        with pytest.raises(ConnectorError) as caught:
            call(*expect.get("args", []), **expect.get("kwargs", {}))
        error = caught.value
        for name, wanted in expect["raises"].items():
            if name == "message_contains":
                assert wanted in error.message, error
            else:
                assert getattr(error, name) == wanted, (name, error)
    else:
        result = call(*expect.get("args", []), **expect.get("kwargs", {}))
        for where, wanted in expect.get("returns", {}).items():
            assert at(result, where) == wanted, where
    if expect.get("sends_nothing"):
        assert sent == []
        return
    request = fixture["request"]
    assert sent and sent[0].method == request["method"]
    assert urlsplit(str(sent[0].url)).path.rstrip("/").endswith(request["path"].rstrip("/"))
    for where, wanted in {f"query.{k}": v for k, v in (request.get("query") or {}).items()}.items():
        if where != "query.q" or expect["op"] == "soql":
            assert at(sent_view(sent[0]), where) == wanted, where
    for where, wanted in expect.get("sent", {}).items():
        assert at(sent_view(sent[0]), where) == wanted, where


# --- the sandbox, asked as the documentation says ------------------------------------------------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", CASES, ids=case_id)
def test_the_sandbox_answers_the_documented_request_as_documented(sandbox_origin, path):
    fixture, vendor = load(path), path.parent.name
    seeder_for(vendor)("test")
    connector = get_connector(create_connection("system:test", name=vendor, kind=vendor, **demo_values(vendor)))
    setup, request = fixture.get("setup") or {}, fixture["request"]
    if setup.get("api_usage") == "max":
        set_api_usage(DAILY_MAX)
    if "rate_limit" in setup:
        connector.request("GET", setup["warm"])  # the token and one call, inside the limit
        limit_sandbox(vendor, *setup["rate_limit"])
        connector.request("GET", setup["warm"])
    if fixture.get("token"):
        creds = sandbox_credentials(vendor)
        form = {**request["form"], "client_id": creds["client_id"], "client_secret": creds["client_secret"]}
        answer = httpx.post(f"{sandbox_origin}/sandbox/{vendor}/{request['path']}", data=form)
    else:
        answer = connector.request(request["method"], request["path"], params=request.get("query"),
                                   json=request.get("json"), raise_for_status=False)  # fmt: skip
    documented = fixture["response"]
    assert answer.status_code == documented["status"], answer.text[:500]
    body, expect = answer.json(), fixture.get("sandbox") or {}
    for where in expect.get("same", []):
        assert at(body, where) == at(documented["json"], where), where
    for where in expect.get("keys", []):
        missing = set(at(documented["json"], where)) - set(at(body, where))
        assert not missing, (where, missing)
    for key, values in (expect.get("all") or {}).items():
        rows = list(body[key].values())
        assert rows and all(row[k] == v for row in rows for k, v in values.items()), key
