"""A target's response larger than the limit is cut off while streaming: a permanent
ConnectorError naming the limit, recorded as an attempt, never read into memory whole."""

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.connectors.errors import ConnectorError
from integrations.connectors.http import HttpClient

MIB = 1024 * 1024


class Streamer(BaseHTTPRequestHandler):
    """/stream/<n>: n MiB, chunked, no Content-Length (written slowly enough that a
    client reading it whole would take seconds); /sized/<n>: n bytes with a Content-Length;
    /gzip/<n>: n MiB of zeros gzip-compressed to a few KiB."""

    protocol_version = "HTTP/1.1"
    written: list[int] = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        kind, n = self.path.strip("/").split("/")
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        if kind == "sized":
            body = b'"' + b"x" * (int(n) - 2) + b'"'
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if kind == "gzip":
            body = gzip.compress(b"0" * int(n) * MIB)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        Streamer.written.append(0)
        chunk = b"y" * (256 * 1024)
        try:
            for _ in range(int(n) * 4):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                Streamer.written[-1] += len(chunk)
                time.sleep(0.01)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what the cap is for


@pytest.fixture
def target(settings):
    Streamer.written = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Streamer)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = [url]
    yield url
    httpd.shutdown()
    httpd.server_close()


def test_a_streamed_body_past_the_limit_is_cut_off_as_a_permanent_error(target, settings):
    settings.SWITCHBOARD_MAX_RESPONSE_BYTES = 2 * MIB
    attempts = []
    client = HttpClient(base_url=target, on_attempt=attempts.append)
    started = time.monotonic()
    with pytest.raises(ConnectorError) as error:
        client.request("POST", target + "/stream/200", json={"a": 1})
    assert time.monotonic() - started < 5  # 200 MiB at this pace would take 8 s and more
    assert error.value.kind == "permanent" and error.value.status_code == 201
    assert "2 MiB" in error.value.message and "SWITCHBOARD_MAX_RESPONSE_BYTES" in error.value.message
    assert error.value.ambiguous  # the target answered: a retry looks the record up first
    assert attempts[-1].error == error.value.message and attempts[-1].response_excerpt == ""
    client.close()


def test_a_declared_length_past_the_limit_is_refused_before_reading(target, settings):
    settings.SWITCHBOARD_MAX_RESPONSE_BYTES = 1000
    with pytest.raises(ConnectorError, match="1000 bytes"):
        HttpClient(base_url=target).request("POST", target + "/sized/5000", json={})


def test_a_compressed_body_counts_by_its_decoded_size(target, settings):
    settings.SWITCHBOARD_MAX_RESPONSE_BYTES = MIB
    with pytest.raises(ConnectorError, match="1 MiB"):
        HttpClient(base_url=target).request("POST", target + "/gzip/8", json={})


def test_bodies_within_the_limit_read_as_usual(target, settings):
    settings.SWITCHBOARD_MAX_RESPONSE_BYTES = 2 * MIB
    client = HttpClient(base_url=target)
    response = client.request("POST", target + "/sized/5000", json={})
    assert response.status_code == 201 and len(response.json()) == 4998
    assert len(client.request("POST", target + "/stream/1", json={}).content) == MIB  # exactly 1 MiB, chunked


def test_a_connection_can_lower_its_own_limit(target, db):
    from integrations.connections.models import Connection

    connection = Connection(name="erp", kind="generic_rest", base_url=target, config={"max_response_bytes": 1000})
    with pytest.raises(ConnectorError, match="1000 bytes"):
        HttpClient.for_connection(connection).request("POST", target + "/sized/5000", json={})
