"""Event intake while Redis is down: `POST /api/v1/events/` keeps answering 202 fast (the
database row is the truth; a failed doorbell is re-sent by the dispatchers), and every
accepted event is posted once after Redis comes back.

Everything that publishes runs in its own process on a private Redis the test kills: the web
server (granian, as the Procfile runs it), a worker, and the dispatchers (beat_loop.py)."""

import os
import signal
import socket
import statistics
import subprocess
import time
from pathlib import Path

import httpx
from rest_framework.authtoken.models import Token

from tests.runtime.conftest import INVOICE_FLOW, WEBHOOK_SECRET, publish_flow

from .conftest import worker_env
from .harness import (
    PYTHON,
    ROOT,
    WORKER_TEST_MARKS,
    RedisServer,
    Worker,
    check,
    database_url,
    make_connection,
)

pytestmark = WORKER_TEST_MARKS

OUTAGE_SECONDS = 30
MEDIAN_LIMIT_S = 0.100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    out = log.open("a")
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_until(predicate, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout}s")


def test_event_intake_answers_fast_during_a_redis_outage_and_delivers_everything_after(simulator, personas, tmp_path):
    from integrations.connections.models import Connection

    crm = Connection(name="crm", kind="generic_webhook", base_url="https://crm.example.com")
    crm.set_credentials({"webhook_secret": WEBHOOK_SECRET})
    crm.save()
    make_connection(simulator, "erp")
    publish_flow(personas["analyst"], INVOICE_FLOW)
    token = Token.objects.create(user=personas["operator"]).key

    redis = RedisServer(port=6398).start()
    port = free_port()
    env = {
        **os.environ,
        **worker_env(simulator),
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis.url,
        "PYTHONPATH": str(ROOT),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "studio.settings_test"),
    }
    granian = [str(Path(PYTHON).with_name("granian")), "--interface", "wsgi", "studio.wsgi:application"]
    granian += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--blocking-threads", "4"]
    web = spawn(granian, env, tmp_path / "web.log")
    beat = spawn([PYTHON, str(Path(__file__).with_name("beat_loop.py"))], env, tmp_path / "beat.log")
    worker = Worker(redis_url=redis.url, env=worker_env(simulator), log=tmp_path / "worker.log").start()
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Token {token}"}, timeout=30, trust_env=False
    )
    accepted: list[str] = []

    def post(n: int) -> float:
        body = {"connection": "crm", "type": "invoice.approved", "external_id": f"evt-{n}"}
        body["payload"] = {"id": f"INV-{n}", "amount": n}
        started = time.perf_counter()
        response = api.post("/api/v1/events/", json=body)
        took = time.perf_counter() - started
        assert response.status_code == 202, (response.status_code, response.text[:500])
        accepted.append(f"INV-{n}")
        return took

    try:
        wait_until(lambda: _answers(api), 60, "web server up")
        for n in range(5):  # warm: Redis up, everything flows
            post(n)
        wait_until(lambda: simulator.posting_count() >= 5, 60, "warm-up events delivered")

        redis.kill()
        down_at, latencies, n = time.monotonic(), [], 5
        while time.monotonic() - down_at < OUTAGE_SECONDS:
            latencies.append(post(n))
            n += 1
            time.sleep(0.1)
        redis.start()
        drain_s = wait_until(lambda: simulator.posting_count() >= len(accepted), 180, "accepted events delivered")
    finally:
        api.close()
        worker.kill()
        stop(beat)
        stop(web)
        redis.kill()

    median, worst = statistics.median(latencies), max(latencies)
    figures = check(
        simulator,
        during_outage=len(latencies),
        median_ms=round(median * 1000, 1),
        p95_ms=round(statistics.quantiles(latencies, n=20)[-1] * 1000, 1),
        max_ms=round(worst * 1000, 1),
        drain_after_up_s=round(drain_s, 1),
    )
    figures.show("intake during a 30 s Redis outage")
    assert median < MEDIAN_LIMIT_S, f"median intake {median * 1000:.0f} ms while Redis was down"
    posted = {p["external_ref"] for p in simulator.postings()}
    assert set(accepted) <= posted, f"not delivered: {sorted(set(accepted) - posted)[:10]}"
    assert (figures.posted, figures.lost, figures.duplicated) == (len(accepted), 0, 0)


def _answers(api: httpx.Client) -> bool:
    try:
        return api.get("/api/v1/me/").status_code == 200
    except httpx.HTTPError:
        return False
