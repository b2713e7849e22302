"""The outbound HTTP module: destinations, redirects, redaction, transport errors."""

import contextlib
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.connectors.errors import BlockedDestination, ConnectorError
from integrations.connectors.http import HttpClient, is_public_address

SECRET = "s3cr3t-Canary-7781"


class Handler(BaseHTTPRequestHandler):
    hits: list[str] = []  # shared across requests on purpose

    def log_message(self, *args):  # keep test output quiet
        pass

    def _answer(self, status, body, headers=()):
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the client gave up (timeout tests)
            self.wfile.write(payload)

    def do_GET(self):
        Handler.hits.append(self.path)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/target")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path.startswith("/slow"):
            import time

            time.sleep(1.5)
            self._answer(200, {})
        else:
            # Echo what arrived, secrets included: the client must redact its records.
            self._answer(200, {"path": self.path, "auth": self.headers.get("Authorization"), "token": SECRET})

    def do_POST(self):
        Handler.hits.append(self.path)
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode()
        self._answer(201, {"received": body, "password": SECRET})


@pytest.fixture
def server():
    Handler.hits = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def allowed(server, settings):
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = [server]
    return server


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.0.0.8/x",
        "https://192.168.1.20/x",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/x",
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
    ],
)
def test_private_and_loopback_destinations_are_refused(url):
    client = HttpClient(base_url=url)
    with pytest.raises(BlockedDestination, match="private or local address"):
        client.request("GET", url)


def test_loopback_origin_not_explicitly_allowed_is_refused(server, settings):
    settings.SWITCHBOARD_SANDBOX_ORIGIN = "http://127.0.0.1:1"  # a different port: not this server
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = []
    with pytest.raises(BlockedDestination):
        HttpClient(base_url=server).request("GET", server + "/ping")
    assert Handler.hits == []


def test_sandbox_origin_is_allowed_only_when_sandboxes_are_on(server, settings):
    settings.SWITCHBOARD_SANDBOX_ORIGIN = server
    settings.SWITCHBOARD_SANDBOXES_ENABLED = True
    assert HttpClient(base_url=server).request("GET", server + "/ping").status_code == 200
    settings.SWITCHBOARD_SANDBOXES_ENABLED = False
    with pytest.raises(BlockedDestination):
        HttpClient(base_url=server).request("GET", server + "/ping")


def test_host_outside_the_allow_list_is_refused(allowed):
    client = HttpClient(base_url=allowed)
    with pytest.raises(BlockedDestination, match="not allowed"):
        client.request("GET", "https://example.org/steal")
    with pytest.raises(BlockedDestination):
        client.request("GET", "file:///etc/passwd")


def test_plain_http_to_a_public_host_is_refused():
    with pytest.raises(BlockedDestination, match="https"):
        HttpClient(base_url="http://example.com").request("GET", "http://example.com/")


def test_redirects_are_never_followed(allowed):
    response = HttpClient(base_url=allowed).request("GET", allowed + "/redirect")
    assert response.status_code == 302
    assert Handler.hits == ["/redirect"]


def test_no_secret_in_attempts_or_logs(allowed, caplog):
    attempts = []
    client = HttpClient(base_url=allowed, secrets=[SECRET], on_attempt=attempts.append)
    caplog.set_level(logging.DEBUG)
    client.request(
        "GET", allowed + f"/items?access_token={SECRET}&page=2", headers={"Authorization": f"Bearer {SECRET}"}
    )
    client.request("POST", allowed + "/oauth/token", data={"grant_type": "client_credentials", "client_secret": SECRET})
    client.request("POST", allowed + "/things", json={"name": "Northwind", "api_key": SECRET})
    assert len(attempts) == 3
    stored = json.dumps([a.as_dict() for a in attempts])
    assert SECRET not in stored
    assert SECRET not in caplog.text
    assert "page=2" in attempts[0].url and "Northwind" in attempts[2].request_excerpt
    assert attempts[1].status_code == 201 and attempts[0].duration_ms >= 0


def test_secret_values_are_masked_even_under_innocent_names(allowed):
    attempts = []
    client = HttpClient(base_url=allowed, secrets=[SECRET], on_attempt=attempts.append)
    client.request("POST", allowed + "/notes", json={"note": f"my key is {SECRET}"})
    assert SECRET not in json.dumps(attempts[0].as_dict())


def test_connection_refused_is_transient_and_not_ambiguous(settings):
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = ["http://127.0.0.1:9"]
    attempts = []
    with pytest.raises(ConnectorError) as err:
        HttpClient(base_url="http://127.0.0.1:9", on_attempt=attempts.append).request("GET", "http://127.0.0.1:9/")
    assert err.value.transient and not err.value.ambiguous
    assert attempts[0].status_code is None and attempts[0].error


def test_read_timeout_is_transient_and_ambiguous(allowed):
    client = HttpClient(base_url=allowed, timeout=0.3)
    with pytest.raises(ConnectorError) as err:
        client.request("GET", allowed + "/slow")
    assert err.value.transient and err.value.ambiguous


def test_public_address_check():
    assert is_public_address("93.184.216.34")
    assert not is_public_address("127.0.0.1")
    assert not is_public_address("::ffff:10.0.0.1")
    assert not is_public_address("fe80::1")


def test_the_checked_address_is_the_one_connected_to(monkeypatch):
    """DNS rebinding: the request is pinned to the address that passed the check."""
    import httpx

    from integrations.connectors import http as http_module

    lookups = []
    monkeypatch.setattr(http_module, "resolve", lambda host, port: lookups.append(host) or ["93.184.216.34"])
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    attempts = []
    client = HttpClient(
        base_url="https://api.vendor.test", transport=httpx.MockTransport(handler), on_attempt=attempts.append
    )
    client.request("GET", "https://api.vendor.test/v1/items?x=1")
    request = seen[0]
    assert request.url.host == "93.184.216.34" and request.url.path == "/v1/items"
    assert request.headers["host"] == "api.vendor.test"
    assert request.extensions["sni_hostname"] == "api.vendor.test"
    assert lookups == ["api.vendor.test"]
    assert attempts[0].url == "https://api.vendor.test/v1/items?x=1"


def test_a_host_with_any_private_address_is_refused(monkeypatch):
    from integrations.connectors import http as http_module

    monkeypatch.setattr(http_module, "resolve", lambda host, port: ["93.184.216.34", "10.0.0.7"])
    with pytest.raises(BlockedDestination, match=r"10\.0\.0\.7"):
        HttpClient(base_url="https://api.vendor.test").request("GET", "https://api.vendor.test/")


def test_non_standard_ports_are_refused_unless_configured(monkeypatch, settings):
    import httpx

    from integrations.connectors import http as http_module

    monkeypatch.setattr(http_module, "resolve", lambda host, port: ["93.184.216.34"])
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    client = HttpClient(base_url="https://api.vendor.test:8443", transport=transport)
    with pytest.raises(BlockedDestination, match="Port 8443"):
        client.request("GET", "https://api.vendor.test:8443/")
    settings.SWITCHBOARD_OUTBOUND_PORTS = [443, 8443]
    assert client.request("GET", "https://api.vendor.test:8443/").status_code == 204


def test_large_bodies_are_excerpted_with_secrets_masked(allowed):
    attempts = []
    client = HttpClient(base_url=allowed, on_attempt=attempts.append)
    client.request("POST", allowed + "/bulk", json={"password": "hunter2-long-one", "rows": ["x" * 100] * 5000})
    excerpt = attempts[0].request_excerpt
    assert "hunter2-long-one" not in excerpt and len(excerpt) <= 2001


def test_clients_share_one_verifying_tls_context():
    import ssl

    first = HttpClient(base_url="https://one.example.com")._client_for("one.example.com")
    second = HttpClient(base_url="https://two.example.com")._client_for("two.example.com")
    contexts = {id(c._transport._pool._ssl_context) for c in (first, second)}
    (context,) = {c._transport._pool._ssl_context for c in (first, second)}
    assert len(contexts) == 1, "each client built its own TLS context (a CA bundle load each)"
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
