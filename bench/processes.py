"""Starting and stopping the studio's processes (web server, workers, supervisor) for the
benchmarks that run them for real: each in a process group of its own, so stopping it stops
its children too (a Celery worker's pool, granian's workers)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env: dict, args: list[str], log) -> subprocess.Popen:
    """`args` from the repository root, output to `log`, in a new process group."""
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for_port(port: int, timeout: float = 60) -> None:
    """Until something accepts connections on 127.0.0.1:`port` (the web server is up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("the web server did not start") from None
            time.sleep(0.2)


def stop(procs: list[subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM to each process group, SIGKILL to those still running after `timeout` s."""
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
