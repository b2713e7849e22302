"""`make run`'s process supervisor: honcho, adjusted for Celery.

Stock honcho stops everything when one process exits, sends SIGTERM to each process
*group* and SIGKILLs what still runs 5 s later. Each hurts the Celery worker:

- A worker that dies (a bug in a library, the OOM killer) would take the studio down with
  it. Here the worker and beat are started again, with backoff (integrations/backoff.py,
  1 s doubling to 30 s, reset after a minute up), and the supervisor says so. Nothing is
  lost meanwhile: the database is the truth and the dispatchers re-send due work.
- SIGTERM to the group kills the pool children before the main process can drain them (it
  then hangs restoring the messages it received meanwhile). SIGTERM goes to each main
  process only (granian and Celery stop their own children) — what systemd calls
  `KillMode=mixed` (docs/OPERATIONS.md).
- A warm shutdown takes longer than 5 s even when idle: the SIGKILL of the whole group
  waits for the worker's soft-shutdown timeout plus a margin.
"""

import datetime
import errno
import multiprocessing
import os
import queue
import signal
import sys
import time

import honcho.command
import honcho.compat
import honcho.manager
from django.conf import settings  # importing `studio` has set DJANGO_SETTINGS_MODULE
from honcho.command import main

from integrations import backoff

RESTARTED = frozenset({"worker", "beat"})  # Procfile names; web (granian) respawns its own workers
RESTART_BASE_SECONDS = 1.0
RESTART_CAP_SECONDS = 30.0
STABLE_SECONDS = 60.0  # up this long: the next exit starts the backoff from the beginning


def terminate_main_process(self, pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ESRCH):
            raise


class RestartingManager(honcho.manager.Manager):
    """honcho's Manager, except that a worker or beat that exits on its own is started again."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._restarts: dict[str, dict] = {}  # name -> {"due": monotonic, "failures": n, "started": monotonic}

    def loop(self) -> None:
        """honcho's loop, with one change: a restartable process's 'stop' schedules a restart
        instead of stopping everything (unless we are shutting down)."""

        def _terminate(signum, frame):
            self._system_print(f"{honcho.manager.SIGNALS[signum]['name']} received\n")
            self.returncode = honcho.manager.SIGNALS[signum]["rc"]
            self.terminate()

        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, _terminate)
        self._start()
        now = time.monotonic()
        for name in self._processes:
            self._restarts[name] = {"due": None, "failures": 0, "started": now}
        exit, exit_start = False, None
        while True:
            try:
                msg = self.events.get(timeout=0.1)
            except queue.Empty:
                if exit:
                    break
            else:
                self._handle(msg)
            self._start_due()
            if self._all_started() and self._all_stopped():
                exit = True
            if exit_start is None and self._all_started() and self._any_stopped():
                exit_start = self._clock.now()
                self.terminate()
            if exit_start is not None and self._clock.now() - exit_start > datetime.timedelta(
                seconds=honcho.manager.KILL_WAIT
            ):
                self.kill()

    def _handle(self, msg) -> None:
        if msg.type == "line":
            self._printer.write(msg)
        elif msg.type == "start":
            self._processes[msg.name]["pid"] = msg.data["pid"]
            self._system_print(f"{msg.name} started (pid={msg.data['pid']})\n")
        elif msg.type == "stop":
            rc = msg.data["returncode"]
            if not self._terminating and msg.name.split(".")[0] in RESTARTED:
                self._schedule_restart(msg.name, rc)
                return
            self._processes[msg.name]["returncode"] = rc
            self._system_print(f"{msg.name} stopped (rc={rc})\n")
            if self.returncode is None:
                self.returncode = rc

    def _schedule_restart(self, name: str, rc) -> None:
        state = self._restarts[name]
        if time.monotonic() - state["started"] >= STABLE_SECONDS:
            state["failures"] = 0
        state["failures"] += 1
        delay = backoff.delay_seconds(state["failures"], base=RESTART_BASE_SECONDS, cap=RESTART_CAP_SECONDS)
        state["due"] = time.monotonic() + delay
        self._system_print(
            f"{name} exited unexpectedly (rc={rc}); restarting it in {delay:.1f} s (restart {state['failures']})\n"
        )

    def _start_due(self) -> None:
        now = time.monotonic()
        for name, state in self._restarts.items():
            if state["due"] is None:
                continue
            if self._terminating:  # shutting down meanwhile: it stays stopped
                state["due"] = None
                self._processes[name]["returncode"] = 0
                continue
            if state["due"] > now:
                continue
            state["due"] = None
            state["started"] = now
            self._system_print(f"restarting {name}\n")
            p = self._processes[name]
            p["process"] = multiprocessing.Process(name=name, target=p["obj"].run, args=(self.events, True))
            p["process"].start()


if __name__ == "__main__":
    honcho.compat.ProcessManager.terminate = terminate_main_process
    honcho.manager.KILL_WAIT = settings.CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT + 15  # read at shutdown
    honcho.command.Manager = RestartingManager
    sys.exit(main())
