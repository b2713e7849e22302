"""Fault-test harness: the ERP simulator process, a real Celery worker subprocess, a private
redis-server, the in-process dispatcher loop, and the checker that prints the figures.

Adding a fault is a few lines: start the pieces, inject (kill, restart, simulator config),
`drive()` until every delivery is terminal, then `check()`."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


class Simulator:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [PYTHON, str(Path(__file__).with_name("erp_simulator.py"))], stdout=subprocess.PIPE, text=True
        )
        line = self.proc.stdout.readline().strip()
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(base_url=self.url, timeout=10, trust_env=False)

    def config(self, **changes) -> None:
        self.http.post("/_control/config", json=changes).raise_for_status()

    def state(self) -> dict:
        return self.http.get("/_control/state").json()

    def postings(self) -> list[dict]:
        return self.state()["postings"]

    def posting_count(self) -> int:
        return len(self.postings())

    def stop(self) -> None:
        self.http.close()
        self.proc.kill()
        self.proc.wait()


def make_connection(simulator: Simulator, name: str = "erp", *, upsert: bool = False, config=None, **fields):
    """A generic REST connection to the simulator. `upsert`: the object declares the
    simulator's idempotent upsert (PUT by external_ref); `config`: more connection config."""
    from integrations.connections.models import Connection

    postings = {"path": "/postings", "records_path": "$.data", "id_field": "id", "external_id_field": "external_ref"}
    if upsert:
        postings["upsert_path"] = "/postings/by_ref/{external_id}"
    config = {
        "auth_type": "none",
        "timeout_seconds": fields.pop("timeout_seconds", 5),
        "objects": {"postings": postings},
        **(config or {}),
    }
    return Connection.objects.create(name=name, kind="generic_rest", base_url=simulator.url, config=config, **fields)


def request_postings(connection, count: int, *, prefix: str = "inv", enqueue: bool = False) -> list:
    from integrations.deliveries.services import request_delivery

    return [
        request_delivery(
            run=None,
            step_id="post",
            connection=connection,
            object="postings",
            action="create",
            key=f"{prefix}:{i}",
            payload={"amount": i, "currency": "EUR"},
            external_id_field="external_ref",
            external_id=f"{prefix}:{i}",
            enqueue=enqueue,
        )
        for i in range(count)
    ]


def database_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# Tests that run a real Celery worker against PostgreSQL and Redis (CI runs them; without
# those services they are skipped with the reason, see tests/conftest.py).
WORKER_TEST_MARKS = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


class Worker:
    """`celery -A studio worker --pool prefork --concurrency 2` in its own process group."""

    def __init__(
        self, *, redis_url: str, env: dict | None = None, log: Path | None = None, as_deployed: bool = False
    ) -> None:
        self.env = {
            "DJANGO_SETTINGS_MODULE": "studio.settings_test",
            **os.environ,  # a DJANGO_SETTINGS_MODULE set by the caller wins (fault tests vary settings)
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url,
            **(env or {}),
        }
        self.log = log or Path("/tmp") / f"sb-worker-{os.getpid()}.log"
        # As the Procfile and docker-compose run it: with heartbeat, gossip and mingle (their
        # channels close, and restore, when the broker connection is lost).
        self.as_deployed = as_deployed
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        args = [PYTHON, "-m", "celery", "-A", "studio", "worker", "--pool", "prefork", "--concurrency", "2"]
        args += ["-Q", "default", "-l", "warning"]
        if not self.as_deployed:
            args += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
        out = self.log.open("a")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True)
        return self

    def kill(self) -> None:
        """SIGKILL the main process and every pool child (the whole process group)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.proc:
            self._wait_for_group()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc:
            self._wait_for_group()

    def _wait_for_group(self, timeout: float = 10) -> None:
        """Pool children outlive the main process by a moment; they hold database sessions
        (kept across tasks) that must be gone before the test database is dropped."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


class RedisServer:
    """A private redis-server. Without `aof_dir` it has no persistence, so a restart comes back
    empty; with it, append-only (`everysec`, as docker-compose runs it) in that directory."""

    def __init__(self, port: int = 6391, *, aof_dir: Path | None = None) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.aof_dir = aof_dir
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        if self.aof_dir is None:
            args += ["--appendonly", "no"]
        else:
            args += ["--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(self.aof_dir)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import redis

                redis.Redis.from_url(self.url).ping()
                return self
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


def sender_via(broker_url: str):
    """A dispatcher `send` that publishes to a given broker (a private Redis in one test)."""
    from integrations.deliveries import conf
    from integrations.deliveries.tasks import deliver_deliveries
    from studio.celery import app

    def send(ids: list[int], queue: str) -> None:
        with app.connection_for_write(broker_url) as conn:
            deliver_deliveries.apply_async(
                args=[ids], queue=queue, expires=conf.task_expires_seconds(), connection=conn, retry=False
            )

    return send


def drive(until, *, timeout: float, send=None, interval: float = 0.5, on_tick=None) -> float:
    """Run the dispatcher and sweeper in-process until `until()` is true; returns seconds taken."""
    from integrations.deliveries.dispatcher import dispatch_due, sweep_expired

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        sweep_expired()
        dispatch_due(send=send)
        if on_tick:
            on_tick()
        if until():
            return time.monotonic() - started
        time.sleep(interval)
    raise AssertionError(f"not done after {timeout}s")


def all_terminal() -> bool:
    from integrations.deliveries.choices import TERMINAL_STATES
    from integrations.deliveries.models import Delivery

    return not Delivery.objects.exclude(state__in=TERMINAL_STATES).exists()


@dataclass
class Figures:
    accepted: int
    posted: int
    lost: int
    duplicated: int
    unexpected: int
    dead: int
    extra: dict = field(default_factory=dict)

    def show(self, name: str) -> str:
        extras = "".join(f", {k}={v}" for k, v in self.extra.items())
        line = (
            f"[{name}] accepted={self.accepted}, posted={self.posted}, lost={self.lost}, "
            f"duplicated={self.duplicated}, unexpected={self.unexpected}, dead={self.dead}{extras}"
        )
        print(line)
        return line


def check(simulator: Simulator, *, expect_dead: set[str] = frozenset(), **extra) -> Figures:
    """Compare the ledger's accepted keys with the simulator's postings."""
    from integrations.deliveries.choices import DeliveryState
    from integrations.deliveries.models import Delivery

    accepted = set(Delivery.objects.values_list("external_id", flat=True))
    dead = set(Delivery.objects.filter(state=DeliveryState.DEAD).values_list("external_id", flat=True))
    per_ref = Counter(p["external_ref"] for p in simulator.postings())
    posted = set(per_ref)
    return Figures(
        accepted=len(accepted),
        posted=len(posted),
        lost=len(accepted - posted - expect_dead),
        duplicated=sum(n - 1 for n in per_ref.values() if n > 1),
        unexpected=len(posted - accepted) + len(dead - set(expect_dead)),
        dead=len(dead),
        extra=extra,
    )
