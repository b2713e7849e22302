"""A small ERP for fault tests: stores postings by external reference and misbehaves on cue.

Runs in its own process (`python erp_simulator.py` prints `PORT <n>`), so a worker kill or a
Redis restart never touches it. The API the generic REST connector speaks:

    POST /postings            body {external_ref, ...}; honours Idempotency-Key when told to
    PUT  /postings/by_ref/X   the idempotent upsert: creates or updates the posting with
                              external_ref X in one step (what an ERP's upsert by external id does)
    GET  /postings?external_ref=X   → {"data": [matching postings]}

The test drives it through /_control:

    POST /_control/config  {"honour_keys": bool, "latency_ms": n, "unavailable": bool,
                            "maintenance_retry_after": s|null,
                            "drop_rate": f, "slow_rate": f, "slow_seconds": s, "seed": n,
                            "late_rate": f, "late_seconds": [s, ...],
                            "script": {ref: ["503", "429:2", "422", "drop", "slow", "hang",
                                             "late:2.5", "lost:1.5"]}}
    GET  /_control/state   → {"postings": [...], "requests": [...]} (requests: t, method, ref, status)
    POST /_control/reset

A scripted action is used up by the next POST for that reference; "drop" and "slow" commit
the posting first, then drop the connection / answer after the client's timeout; "hang"
never commits and answers 503 only after a minute (the test kills the worker meanwhile).

Late commits, as an ERP under load makes them: "late:S" works S seconds, *then* commits
and answers (the client has usually given up by then); "lost:S" works S seconds and
rolls back (its own request timeout), answering 504. `late_rate` picks "late" at random,
with S drawn from `late_seconds`. A late upsert (PUT) commits as an upsert: it updates
the posting a retry may have created meanwhile instead of adding a second one.
"""

from __future__ import annotations

import json
import random
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULTS = {
    "honour_keys": True,
    "latency_ms": 0,
    "unavailable": False,  # an outage: every POST answers 503 without Retry-After
    "maintenance_retry_after": None,
    "drop_rate": 0.0,
    "slow_rate": 0.0,
    "slow_seconds": 2.0,
    "late_rate": 0.0,
    "late_seconds": [2.5],
    "seed": 1,
    "script": {},
}


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.config = json.loads(json.dumps(DEFAULTS))
        self.random = random.Random(self.config["seed"])
        self.postings: list[dict] = []
        self.by_key: dict[str, dict] = {}
        self.requests: list[dict] = []

    def configure(self, changes: dict) -> None:
        self.config.update(changes)
        if "seed" in changes:
            self.random = random.Random(changes["seed"])

    def next_action(self, ref: str) -> str:
        script = self.config["script"].get(ref) or []
        if script:
            return script.pop(0)
        if self.config["unavailable"]:
            return "503"
        if self.config["maintenance_retry_after"] is not None:
            return f"maint:{self.config['maintenance_retry_after']}"
        roll = self.random.random()
        if roll < self.config["drop_rate"]:
            return "drop"
        if roll < self.config["drop_rate"] + self.config["slow_rate"]:
            return "slow"
        if roll < self.config["drop_rate"] + self.config["slow_rate"] + self.config["late_rate"]:
            return f"late:{self.random.choice(self.config['late_seconds'])}"
        return "ok"

    def post(self, body: dict, key: str | None) -> tuple[dict, bool]:
        """(posting, created): a replayed Idempotency-Key answers the first posting."""
        if key and self.config["honour_keys"] and key in self.by_key:
            return self.by_key[key], False
        posting = {**body, "id": f"P{len(self.postings) + 1}", "idempotency_key": key}
        self.postings.append(posting)
        if key:
            self.by_key[key] = posting
        return posting, True

    def upsert(self, ref: str, body: dict) -> tuple[dict, bool]:
        """(posting, created): the one posting with this external_ref, created or updated."""
        for posting in self.postings:
            if posting.get("external_ref") == ref:
                posting.update(body, external_ref=ref)
                return posting, False
        posting = {**body, "external_ref": ref, "id": f"P{len(self.postings) + 1}", "idempotency_key": None}
        self.postings.append(posting)
        return posting, True


STATE = State()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits for
    # the delayed ACK (~40 ms) on every request, which no real ERP makes it do.
    disable_nagle_algorithm = True

    def log_message(self, *args) -> None:  # quiet
        pass

    def _json(self, status: int, body, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict | None:
        """The JSON body; None when the client went away before sending all of it (a worker
        SIGKILLed between headers and body) — a real server never commits such a request."""
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        if len(data) < length:
            return None
        return json.loads(data or b"{}")

    def _log(self, method: str, ref: str, status) -> None:
        STATE.requests.append({"t": time.time(), "method": method, "ref": ref, "status": status})

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/_control/state":
            with STATE.lock:
                self._json(200, {"postings": STATE.postings, "requests": STATE.requests})
            return
        if url.path.rstrip("/") == "/postings":
            ref = (parse_qs(url.query).get("external_ref") or [""])[0]
            with STATE.lock:
                found = [p for p in STATE.postings if p.get("external_ref") == ref]
                self._log("GET", ref, 200)
            self._json(200, {"data": found})
            return
        self._json(404, {"message": "no such path"})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self._body()
        if body is None:
            self.close_connection = True
            return
        if url.path == "/_control/config":
            with STATE.lock:
                STATE.configure(body)
            self._json(200, STATE.config)
            return
        if url.path == "/_control/reset":
            with STATE.lock:
                STATE.reset()
            self._json(200, {})
            return
        if url.path.rstrip("/") != "/postings":
            self._json(404, {"message": "no such path"})
            return
        self._create(body)

    def do_PUT(self) -> None:
        url = urlsplit(self.path)
        body = self._body()
        if body is None:
            self.close_connection = True
            return
        prefix = "/postings/by_ref/"
        if not url.path.startswith(prefix):
            self._json(404, {"message": "no such path"})
            return
        self._create(body, upsert_ref=unquote(url.path[len(prefix) :]))

    def _create(self, body: dict, upsert_ref: str | None = None) -> None:
        method = "POST" if upsert_ref is None else "PUT"
        ref = str(body.get("external_ref", "")) if upsert_ref is None else upsert_ref
        if STATE.config["latency_ms"]:
            time.sleep(STATE.config["latency_ms"] / 1000)
        with STATE.lock:
            action = STATE.next_action(ref)
        name, _, arg = action.partition(":")
        if name in ("late", "lost"):
            # Working on it past the client's timeout; only then commit (late) or roll back (lost).
            time.sleep(float(arg))
        with STATE.lock:
            refusal = _refusal(action)
            if refusal is None:
                if upsert_ref is None:
                    posting, created = STATE.post(body, self.headers.get("Idempotency-Key"))
                else:
                    posting, created = STATE.upsert(upsert_ref, body)
            self._log(method, ref, refusal[0] if refusal else action)
        if action == "hang":
            time.sleep(60)
        if refusal is not None:
            self._json(*refusal)
        elif action == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            if action == "slow":
                time.sleep(STATE.config["slow_seconds"])
            self._json(201 if created else 200, posting)


def _refusal(action: str) -> tuple[int, dict, dict] | None:
    """(status, body, headers) for an action that refuses the posting, else None."""
    name, _, arg = action.partition(":")
    if name in ("503", "hang"):
        return 503, {"message": "temporarily unavailable"}, {}
    if name == "lost":
        return 504, {"message": "request timed out; nothing was saved"}, {}
    if name == "maint":
        return 503, {"message": "down for maintenance"}, {"Retry-After": arg}
    if name == "429":
        return 429, {"message": "too many requests"}, {"Retry-After": arg or "1"}
    if name == "422":
        return 422, {"message": "cost centre unknown"}, {}
    return None


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address) -> None:
        # A late answer to a client that already timed out is the point of "slow": stay quiet.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def main() -> None:
    server = Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
