"""Benchmark 4 of issue 3: the synchronous invoke API against Node-RED doing the same mapping.

Switchboard: `POST /api/v1/flows/<key>/invoke` (token auth, role check, a published flow with
the 30-field path mapping of bench/mapping.py), served by gunicorn (gthread) on the embedded
SQLite default. Node-RED 4.1.x (installed with npm into the work directory on first use): an
`http in` → `function` (the same 30 fields written in JavaScript) → `http response` flow.

The same Python load generator (keep-alive connections, a fixed number of concurrent clients,
a fixed duration) drives both, alternately, ROUNDS times; the medians of requests/s and p99
latency are printed with their ratio. Target: Switchboard >= 0.85x Node-RED's requests/s with a
p99 no worse. Exits 1 if the target is missed.

    .venv/bin/python bench/invoke.py [--rounds 3] [--seconds 8] [--clients 8] [--workers 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.mapping import FIELDS, make_record, paths_definition  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
NODE_RED_VERSION = "4.1.8"
TARGET_RPS, FLOW_KEY = 0.85, "bench-map"

SETUP = """
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from integrations.flows.models import Flow
from integrations.flows.services import create_flow, publish
user, _ = User.objects.get_or_create(username="bench")
user.groups.add(Group.objects.get(name="Operator"))
if not Flow.objects.filter(key="{key}").exists():
    publish(create_flow(user, key="{key}", name="Bench map", definition={definition}), user)
print(Token.objects.get_or_create(user=user)[0].key)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listening on {port}")


# --- the two servers --------------------------------------------------------------------------


def django_env(work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return {
        **env,
        "SWITCHBOARD_VAR_DIR": str(work / "var"),
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DEBUG": "false",
    }


def start_switchboard(work: Path, workers: int) -> tuple[subprocess.Popen, int, str]:
    env = django_env(work)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    script = SETUP.format(key=FLOW_KEY, definition=repr(paths_definition()))
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True
    )
    token = out.stdout.decode().strip().splitlines()[-1]
    port = free_port()
    args = [GUNICORN, "studio.wsgi:application", "-k", "gthread", "-w", str(workers), "--threads", "4"]
    args += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", "--keep-alive", "30"]
    proc = subprocess.Popen(args, cwd=ROOT, env=env)
    wait_for(port)
    return proc, port, token


NODE_FUNCTION = "const r = msg.payload;\nmsg.payload = {\n%s\n};\nreturn msg;"


def js_path(source: str) -> str:
    """`$.Account.BillingAddress.city` / `$.X.records[0].Y` → the same access in JavaScript."""
    return "r" + source[1:].replace(".", "?.").replace("[", "?.[")


def node_red_flows() -> list[dict]:
    body = ",\n".join(f"  {to}: {js_path(source)}" for to, source in FIELDS)
    return [
        {"id": "tab", "type": "tab", "label": "bench"},
        {"id": "in", "type": "http in", "z": "tab", "url": "/map", "method": "post", "wires": [["fn"]]},
        {"id": "fn", "type": "function", "z": "tab", "func": NODE_FUNCTION % body, "outputs": 1, "wires": [["out"]]},
        {"id": "out", "type": "http response", "z": "tab", "statusCode": "200", "wires": []},
    ]


def start_node_red(work: Path) -> tuple[subprocess.Popen, int]:
    home = work / "node-red"
    red = home / "node_modules" / "node-red" / "red.js"
    if not red.exists():
        home.mkdir(parents=True, exist_ok=True)
        npm = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(home), f"node-red@{NODE_RED_VERSION}"]
        subprocess.run(npm, check=True, stdout=subprocess.DEVNULL)
    data = home / "data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    (data / "flows.json").write_text(json.dumps(node_red_flows()))
    port = free_port()
    settings = {"uiPort": port, "uiHost": "127.0.0.1", "flowFile": "flows.json", "httpAdminRoot": False}
    (data / "settings.js").write_text(
        "module.exports = " + json.dumps(settings) + ";\nmodule.exports.logging = {console: {level: 'warn'}};\n"
    )
    proc = subprocess.Popen(
        ["node", str(red), "-u", str(data), "-s", str(data / "settings.js")], stdout=subprocess.DEVNULL
    )
    wait_for(port)
    return proc, port


# --- load -----------------------------------------------------------------------------------


def load(port: int, path: str, headers: dict, bodies: list[bytes], seconds: float, clients: int) -> dict:
    """`clients` threads, each on one keep-alive connection, posting for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = n
        while time.monotonic() < stop:
            body = bodies[i % len(bodies)]
            i += clients
            started = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[n] += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                errors[n] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            latencies[n].append(time.perf_counter() - started)
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    all_ms = sorted(x * 1000 for xs in latencies for x in xs)
    return {
        "rps": len(all_ms) / elapsed,
        "p50": all_ms[len(all_ms) // 2] if all_ms else float("nan"),
        "p99": all_ms[int(len(all_ms) * 0.99)] if all_ms else float("nan"),
        "errors": sum(errors),
    }


def same_answers(sb_port: int, token: str, nr_port: int, record: dict) -> None:
    def post(port, path, headers):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", path, json.dumps(record), headers)
        return json.loads(conn.getresponse().read())

    ours = post(sb_port, f"/api/v1/flows/{FLOW_KEY}/invoke", {**JSON, "Authorization": f"Token {token}"})["record"]
    theirs = post(nr_port, "/map", JSON)
    assert ours == theirs, f"the two servers map differently:\n{ours}\n{theirs}"


JSON = {"Content-Type": "application/json"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--work", default="/tmp/sb-bench-invoke")
    args = parser.parse_args()
    work = Path(args.work)
    rng = random.Random(7)
    records = [make_record(rng, i) for i in range(200)]
    bodies = [json.dumps(r).encode() for r in records]
    sb, sb_port, token = start_switchboard(work, args.workers)
    nr, nr_port = start_node_red(work)
    try:
        same_answers(sb_port, token, nr_port, records[0])
        targets = {
            "node-red": (nr_port, "/map", JSON),
            "switchboard": (sb_port, f"/api/v1/flows/{FLOW_KEY}/invoke", {**JSON, "Authorization": f"Token {token}"}),
        }
        for port, path, headers in targets.values():  # warm up
            load(port, path, headers, bodies, 2, args.clients)
        results: dict[str, list[dict]] = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name, (port, path, headers) in targets.items():
                results[name].append(load(port, path, headers, bodies, args.seconds, args.clients))
    finally:
        for proc in (sb, nr):
            proc.terminate()
            proc.wait(timeout=20)
    med = {
        n: {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99", "errors")}
        for n, rs in results.items()
    }
    print(f"invoke, 30-field mapping, {args.clients} clients, {args.seconds:g}s x {args.rounds} rounds, "
          f"gunicorn gthread x{args.workers}, Node-RED {NODE_RED_VERSION} (node {node_version()})")  # fmt: skip
    for name, m in med.items():
        print(
            f"  {name:12s} {m['rps']:8.0f} req/s   p50 {m['p50']:6.2f} ms   p99 {m['p99']:6.2f} ms"
            f"   errors {m['errors']:.0f}"
        )
    ratio = med["switchboard"]["rps"] / med["node-red"]["rps"]
    p99_ok = med["switchboard"]["p99"] <= med["node-red"]["p99"]
    print(f"  ratio {ratio:.2f}x requests/s (target >= {TARGET_RPS}), p99 {'no worse' if p99_ok else 'worse'}")
    return 0 if ratio >= TARGET_RPS and p99_ok else 1


def node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
