"""Benchmark 4 of issue 3: the synchronous invoke API against Node-RED doing the same mapping.

Switchboard: `POST /api/v1/flows/<key>/invoke` (token auth, role check, a published flow with
the 30-field path mapping of bench/mapping.py) on the embedded SQLite default, served the way
`make run` serves it (the Procfile's granian command: 2 workers x 4 blocking threads, the invoke
gateway in front of Django). For reference the same server also runs with the gateway switched
off (SWITCHBOARD_INVOKE_GATEWAY=false: the call goes through Django's middleware and DRF).
Node-RED 4.1.x (installed with npm into the work directory on first use): an `http in` →
`function` (the same 30 fields written in JavaScript) → `http response` flow.

One load generator (wrk when installed — Debian package `wrk` — else a Python one; keep-alive
connections, a fixed number of concurrent clients, a fixed duration, 200 different records in
turn) drives each server alternately, ROUNDS times; the medians of requests/s and latency are
printed with their ratio. Target: Switchboard >= 0.85x Node-RED's requests/s with a p99 no
worse. Exits 1 if the target is missed.

    .venv/bin/python bench/invoke.py [--rounds 5] [--seconds 8] [--clients 8] [--workers 2] [--threads 4]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
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


def django_env(work: Path, gateway: bool = True) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return {
        **env,
        "SWITCHBOARD_VAR_DIR": str(work / "var"),
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DEBUG": "false",
        "SWITCHBOARD_INVOKE_GATEWAY": "true" if gateway else "false",
    }


def prepare_switchboard(work: Path) -> str:
    """Migrate, publish the flow, and return the API token of an Operator."""
    env = django_env(work)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    script = SETUP.format(key=FLOW_KEY, definition=repr(paths_definition()))
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return out.stdout.decode().strip().splitlines()[-1]


def procfile_web_command() -> str:
    """The Procfile's web command, as `make run` starts it (honcho runs it with `sh -c`)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError("no web process in the Procfile")


def start_switchboard(
    work: Path, workers: int, threads: int, gateway: bool, access_log: bool | None = None
) -> tuple[subprocess.Popen, int]:
    """The Procfile's web command itself (granian, WSGI, its flags and log settings), on a free
    port; only the variables it reads for host, port, workers and threads are set.
    `access_log`: force granian's access log on or off (None: as the environment says)."""
    port = free_port()
    env = {
        **django_env(work, gateway),
        "HOST": "127.0.0.1",
        "WEB_PORT": str(port),
        "WEB_WORKERS": str(workers),
        "WEB_THREADS": str(threads),
    }
    if access_log is not None:
        env["GRANIAN_LOG_ACCESS_ENABLED"] = "true" if access_log else "false"
    proc = subprocess.Popen(
        ["sh", "-c", procfile_web_command()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL if access_log else None,  # the log lines are written, not shown
    )
    wait_for(port)
    return proc, port


def access_log_ab(args, run_load, bodies: list[bytes], auth: dict, invoke_path: str, work: Path) -> int:
    """--access-log-ab: the same server without and with granian's access log, alternating."""
    servers = {
        "no access log": start_switchboard(work, args.workers, args.threads, gateway=True, access_log=False),
        "access log on": start_switchboard(work, args.workers, args.threads, gateway=True, access_log=True),
    }
    try:
        for _, port in servers.values():  # warm up
            run_load(port, invoke_path, auth, bodies, 2, args.clients)
        results: dict[str, list[dict]] = {name: [] for name in servers}
        for _ in range(args.rounds):
            for name, (_, port) in servers.items():
                results[name].append(run_load(port, invoke_path, auth, bodies, args.seconds, args.clients))
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=20)
    print(f"invoke through the Procfile's web command, {args.clients} clients, {args.seconds:g}s x {args.rounds}")
    for name, rs in results.items():
        rps, p99 = statistics.median(r["rps"] for r in rs), statistics.median(r["p99"] for r in rs)
        rounds = ", ".join(f"{r['rps']:.0f}" for r in rs)
        print(f"  {name:15s} {rps:8.0f} req/s   p99 {p99:6.2f} ms   rounds {rounds}")
    ratios = [a["rps"] / b["rps"] for a, b in zip(results["access log on"], results["no access log"], strict=True)]
    print(f"  access log on / off: {statistics.median(ratios):.2f} (per round {', '.join(f'{r:.2f}' for r in ratios)})")
    return 0


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


WRK_SCRIPT = """
bodies = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", nil, nil, bodies[(i %% #bodies) + 1])
end
"""


def wrk_load(port: int, path: str, headers: dict, bodies: list[bytes], seconds: float, clients: int) -> dict:
    """wrk (C, event loop): far lighter than the servers it measures, so the two cores go to them."""
    lua = Path(f"/tmp/sb-bench-invoke-{os.getpid()}.lua")
    lua.write_text(WRK_SCRIPT % ", ".join(f"[==[{b.decode()}]==]" for b in bodies))
    args = ["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{seconds:g}s", "--latency", "-s", str(lua)]
    args += [h for name, value in headers.items() for h in ("-H", f"{name}: {value}")]
    out = subprocess.run([*args, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    lua.unlink()

    def ms(label: str) -> float:
        value = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert value, out
        return float(value[1]) * {"us": 0.001, "ms": 1, "s": 1000}[value[2]]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        "p50": ms("50%"),
        "p99": ms("99%"),
        "errors": (int(errors[1]) if errors else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
    }


def answer_of(port: int, path: str, headers: dict, record: dict):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", path, json.dumps(record), headers)
    response = conn.getresponse()
    body = json.loads(response.read())
    assert response.status == 200, body
    return body


JSON = {"Content-Type": "application/json"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes (the Procfile's)")
    parser.add_argument("--threads", type=int, default=4, help="blocking threads per worker (the Procfile's)")
    parser.add_argument("--loader", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--work", default="/tmp/sb-bench-invoke")
    parser.add_argument(
        "--access-log-ab", action="store_true", help="only Switchboard, without and with the access log (no Node-RED)"
    )
    args = parser.parse_args()
    work = Path(args.work)
    use_wrk = args.loader == "wrk" or (args.loader == "auto" and shutil.which("wrk"))
    run_load = wrk_load if use_wrk else load
    rng = random.Random(7)
    records = [make_record(rng, i) for i in range(200)]
    bodies = [json.dumps(r).encode() for r in records]
    token = prepare_switchboard(work)
    auth = {**JSON, "Authorization": f"Token {token}"}
    invoke_path = f"/api/v1/flows/{FLOW_KEY}/invoke"
    if args.access_log_ab:
        return access_log_ab(args, run_load, bodies, auth, invoke_path, work)
    sb, sb_port = start_switchboard(work, args.workers, args.threads, gateway=True)
    full, full_port = start_switchboard(work, args.workers, args.threads, gateway=False)
    nr, nr_port = start_node_red(work)
    try:
        ours = answer_of(sb_port, invoke_path, auth, records[0])
        same = answer_of(full_port, invoke_path, auth, records[0])
        for body in (ours, same):
            body["steps"] = [{**step, "duration_ms": None} for step in body["steps"]]  # timings differ
        assert ours == same, f"gateway and Django answer differently:\n{ours}\n{same}"
        theirs = answer_of(nr_port, "/map", JSON, records[0])
        assert ours["record"] == theirs, f"the two servers map differently:\n{ours['record']}\n{theirs}"
        targets = {
            "node-red": (nr_port, "/map", JSON),
            "switchboard": (sb_port, invoke_path, auth),
            "(django stack)": (full_port, invoke_path, auth),
        }
        for port, path, headers in targets.values():  # warm up
            run_load(port, path, headers, bodies, 2, args.clients)
        results: dict[str, list[dict]] = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name, (port, path, headers) in targets.items():
                results[name].append(run_load(port, path, headers, bodies, args.seconds, args.clients))
    finally:
        for proc in (sb, full, nr):
            proc.terminate()
            proc.wait(timeout=20)
    med = {
        n: {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99", "errors")}
        for n, rs in results.items()
    }
    loader = "wrk" if use_wrk else "python load generator"
    print(f"invoke, 30-field mapping, {args.clients} clients ({loader}), {args.seconds:g}s x {args.rounds} rounds,")
    print(
        f"granian {args.workers} workers x {args.threads} threads, Node-RED {NODE_RED_VERSION} (node {node_version()})"
    )
    for name, m in med.items():
        print(
            f"  {name:15s} {m['rps']:8.0f} req/s   p50 {m['p50']:6.2f} ms   p99 {m['p99']:6.2f} ms"
            f"   errors {m['errors']:.0f}"
        )
    ratios = [s["rps"] / n["rps"] for s, n in zip(results["switchboard"], results["node-red"], strict=True)]
    ratio = med["switchboard"]["rps"] / med["node-red"]["rps"]
    p99_ok = med["switchboard"]["p99"] <= med["node-red"]["p99"]
    print(f"  per-round ratios {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"  ratio {ratio:.2f}x requests/s (target >= {TARGET_RPS}), p99 {'no worse' if p99_ok else 'worse'}")
    return 0 if ratio >= TARGET_RPS and p99_ok else 1


def node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
