"""`make run`'s web server (the Procfile's web command) writes no access log unless asked:
granian writes it through Python logging, and under load its threads queue on the log
handler's lock (27 % of invoke throughput). GRANIAN_LOG_ACCESS_ENABLED=true turns it on."""

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def procfile_command(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {name} process in the Procfile")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_and_get(tmp_path: Path, **env_extra) -> str:
    """Run the Procfile's web command as honcho does (sh -c), GET /healthz twice, return its output."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "GRANIAN_LOG_ACCESS_ENABLED")}
    env.update(
        HOST="127.0.0.1",
        WEB_PORT=str(port),
        WEB_WORKERS="1",
        WEB_THREADS="1",
        SWITCHBOARD_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="studio.settings_test",
        **env_extra,
    )
    proc = subprocess.Popen(
        ["sh", "-c", procfile_command("web")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10) as http:
            while True:
                try:
                    http.get("/healthz")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            http.get("/healthz")
        time.sleep(0.5)  # let the log line reach the pipe
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
    return output


@pytest.mark.slow
def test_no_access_log_by_default_and_one_line_per_request_when_switched_on(tmp_path):
    quiet = serve_and_get(tmp_path)
    assert "GET /healthz" not in quiet, quiet
    logged = serve_and_get(tmp_path, GRANIAN_LOG_ACCESS_ENABLED="true")
    assert logged.count('"GET /healthz') == 2, logged
