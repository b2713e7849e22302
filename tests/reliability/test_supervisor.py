"""`make run`'s supervisor (studio/supervisor.py) starts a dead worker again, says so, and
keeps the rest of the studio running; the restarted worker delivers."""

import contextlib
import os
import signal
import subprocess
import threading
import time

from .conftest import worker_env
from .harness import (
    PYTHON,
    ROOT,
    WORKER_TEST_MARKS,
    RedisServer,
    all_terminal,
    check,
    database_url,
    drive,
    make_connection,
    request_postings,
    sender_via,
)

pytestmark = WORKER_TEST_MARKS

WORKER = (
    f"exec {PYTHON} -m celery -A studio worker --pool prefork --concurrency 1 -Q default -l warning"
    " --without-heartbeat --without-gossip --without-mingle"
)


class Supervisor:
    def __init__(self, procfile, env: dict) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "studio.supervisor", "start", "--env", "/dev/null", "-f", str(procfile), "-d", str(ROOT)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    def wait_for(self, needle: str, *, after: int = 0, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if needle in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no {needle!r} within {timeout}s:\n" + "\n".join(self.lines[-40:]))

    def pids(self, name: str) -> list[int]:
        return [int(line.split("pid=")[1].rstrip(")")) for line in self.lines if f"{name} started (pid=" in line]


def test_a_killed_worker_is_restarted_within_ten_seconds_and_delivers(simulator, tmp_path):
    redis = RedisServer(port=6397).start()
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"web: exec sleep 600\nworker: {WORKER}\n")
    env = {
        **os.environ,
        **worker_env(simulator),
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis.url,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "studio.settings_test"),
    }
    supervisor = Supervisor(procfile, env)
    try:
        supervisor.wait_for("worker.1 started (pid=")
        time.sleep(3)  # the worker is up and consuming
        (first,) = supervisor.pids("worker.1")
        os.killpg(first, signal.SIGKILL)  # the worker and its pool, as the OOM killer might
        killed_at, seen = time.monotonic(), len(supervisor.lines)
        said = supervisor.wait_for("worker.1 exited unexpectedly", after=seen, timeout=10)
        supervisor.wait_for("worker.1 started (pid=", after=seen, timeout=10)
        restart_s = time.monotonic() - killed_at
        second = supervisor.pids("worker.1")[-1]
        assert second != first
        assert not any("web.1 stopped" in line for line in supervisor.lines), "the web process was stopped"

        request_postings(make_connection(simulator), 30)
        drive(all_terminal, timeout=60, send=sender_via(redis.url))
        figures = check(simulator, restart_s=round(restart_s, 1))
        figures.show("supervisor restarts a killed worker")
        assert "restarting it in" in said and restart_s <= 10
        assert (figures.posted, figures.lost, figures.duplicated) == (30, 0, 0)

        supervisor.proc.send_signal(signal.SIGTERM)  # Ctrl-C: everything stops, nothing restarts
        supervisor.proc.wait(timeout=60)
        assert not any("restarting worker.1" in line for line in supervisor.lines[-20:])
    finally:
        for pid in supervisor.pids("worker.1") + supervisor.pids("web.1"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        if supervisor.proc.poll() is None:
            os.killpg(supervisor.proc.pid, signal.SIGKILL)
        redis.kill()
