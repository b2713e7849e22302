"""The generic REST connector against a tiny local API: OAuth2 client credentials with
token caching and one refresh on 401, cursor pagination, writes, look-up-before-create
upsert, and error classification."""

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.connections.services import create_connection
from integrations.connectors.errors import ConnectorError
from integrations.connectors.registry import get_connector


class Api:
    """State of the fake API, reset per test."""

    def __init__(self):
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.records = {
            str(i): {"id": str(i), "name": f"Client {i}", "updated_at": f"2025-01-{i % 28 + 1:02d}", "ext": f"C-{i}"}
            for i in range(1, 26)
        }
        self.next_status: list[tuple[int, dict, dict]] = []
        self.seen_auth: list[str] = []


API = Api()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _authorised(self):
        auth = self.headers.get("Authorization", "")
        API.seen_auth.append(auth)
        if auth.removeprefix("Bearer ") in API.tokens:
            return True
        self._send(401, {"message": "invalid token"})
        return False

    def _injected(self):
        if API.next_status:
            status, body, headers = API.next_status.pop(0)
            self._send(status, body, headers)
            return True
        return False

    def do_POST(self):
        url = urlsplit(self.path)
        if url.path == "/oauth/token":
            form = parse_qs(self._body().decode())
            if form.get("client_secret") != ["cs-Canary-1234"]:
                return self._send(401, {"error": "invalid_client", "error_description": "Bad client secret"})
            API.token_requests += 1
            token = uuid.uuid4().hex
            API.tokens.add(token)
            return self._send(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})
        if not self._authorised() or self._injected():
            return None
        record = json.loads(self._body())
        if not record.get("name"):
            return self._send(422, {"message": "Name is required", "field": "name"})
        rid = str(len(API.records) + 1)
        API.records[rid] = {"id": rid, "updated_at": "2025-02-01", **record}
        return self._send(201, API.records[rid])

    def do_PATCH(self):
        if not self._authorised() or self._injected():
            return None
        rid = urlsplit(self.path).path.rsplit("/", 1)[-1]
        API.records[rid].update(json.loads(self._body()))
        return self._send(200, API.records[rid])

    def do_GET(self):
        if not self._authorised() or self._injected():
            return None
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path.startswith("/clients/"):
            rid = url.path.rsplit("/", 1)[-1]
            return self._send(200, API.records[rid]) if rid in API.records else self._send(404, {"message": "no such"})
        rows = sorted(API.records.values(), key=lambda r: int(r["id"]))
        if "ext" in query:
            rows = [r for r in rows if r.get("ext") == query["ext"]]
        if "since" in query:
            rows = [r for r in rows if r["updated_at"] > query["since"]]
        start, size = int(query.get("cursor", 0)), int(query.get("limit", 10))
        page = rows[start : start + size]
        nxt = str(start + size) if start + size < len(rows) else None
        return self._send(200, {"data": page, "meta": {"next": nxt}})


@pytest.fixture
def api(settings):
    global API
    API = Api()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = [origin]
    yield origin
    httpd.shutdown()
    httpd.server_close()


OBJECTS = {
    "clients": {
        "path": "/clients",
        "records_path": "$.data",
        "cursor_path": "$.meta.next",
        "cursor_param": "cursor",
        "page_size_param": "limit",
        "since_param": "since",
        "watermark_field": "updated_at",
        "external_id_field": "ext",
    }
}


@pytest.fixture
def connector(api, db):
    conn = create_connection(
        "system:test",
        name="rest",
        kind="generic_rest",
        base_url=api,
        config={
            "auth_type": "oauth2_client_credentials",
            "client_id": "switchboard",
            "token_url": "/oauth/token",
            "test_path": "/clients",
            "objects": OBJECTS,
        },
        credentials={"client_secret": "cs-Canary-1234"},
    )
    attempts = []
    c = get_connector(conn, on_attempt=attempts.append)
    c.attempts = attempts
    return c


def test_query_follows_the_cursor_and_reports_the_watermark(connector):
    records = list(connector.iterate("clients", page_size=10))
    assert [r["id"] for r in records] == [str(i) for i in range(1, 26)]
    page = connector.query("clients", since="2025-01-20", page_size=100)
    assert page.next_cursor is None and page.watermark == "2025-01-26"
    assert all(r["updated_at"] > "2025-01-20" for r in page.records)


def test_token_is_cached_and_refreshed_once_on_401(connector):
    connector.read("clients", "1")
    connector.read("clients", "2")
    assert API.token_requests == 1
    API.tokens.clear()  # the server revokes every token
    assert connector.read("clients", "3")["name"] == "Client 3"
    assert API.token_requests == 2
    # A second connector for the same connection reuses the cached token.
    again = get_connector(connector.connection)
    again.read("clients", "4")
    assert API.token_requests == 2


def test_create_update_and_upsert_by_external_reference(connector):
    created = connector.create("clients", {"name": "Northwind", "ext": "C-900"})
    assert created.created and created.remote_id and created.status_code == 201
    first = connector.upsert("clients", "ext", "C-901", {"name": "Contoso"})
    second = connector.upsert("clients", "ext", "C-901", {"name": "Contoso Ltd"})
    assert first.created and not second.created and first.remote_id == second.remote_id
    assert [r["name"] for r in API.records.values() if r.get("ext") == "C-901"] == ["Contoso Ltd"]


def test_errors_are_classified_with_the_systems_own_text(connector):
    with pytest.raises(ConnectorError) as err:
        connector.create("clients", {"ext": "C-1"})
    assert not err.value.transient and err.value.status_code == 422 and "Name is required" in err.value.message
    API.next_status.append((429, {"message": "slow down"}, {"Retry-After": "7"}))
    with pytest.raises(ConnectorError) as err:
        connector.read("clients", "1")
    assert err.value.transient and err.value.retry_after == 7.0
    API.next_status.append((503, {"message": "maintenance"}, {}))
    with pytest.raises(ConnectorError) as err:
        connector.read("clients", "1")
    assert err.value.transient and err.value.status_code == 503


def test_test_reports_ok_and_a_bad_secret_with_the_token_servers_text(connector, api):
    assert connector.test().ok
    conn = connector.connection
    conn.set_credentials({"client_secret": "wrong"})
    result = get_connector(conn).test()
    assert not result.ok and "Bad client secret" in result.message


def test_no_secret_or_token_in_recorded_attempts(connector):
    connector.read("clients", "1")
    connector.create("clients", {"name": "X"})
    stored = json.dumps([a.as_dict() for a in connector.attempts])
    assert "cs-Canary-1234" not in stored
    assert not any(token in stored for token in API.tokens)
    assert any(a.url.endswith("/oauth/token") for a in connector.attempts)


def test_bad_object_configuration_is_refused_naming_the_key():
    from integrations.connectors.generic_rest import GenericRestConnector

    errors = GenericRestConnector.validate_config({"objects": {"clients": {"path": "/c", "records_path": "$[["}}})
    assert "records_path" in errors["objects"]
