"""`make run`'s process supervisor: honcho, adjusted for a clean Celery shutdown.

Stock honcho sends SIGTERM to each process *group* and SIGKILLs what still runs 5 s later.
Both hurt the Celery worker: its pool children die before the main process can drain them
(it then hangs restoring the messages it received meanwhile), and its warm shutdown takes
longer than 5 s even when idle. So: SIGTERM goes to each main process only (granian and
Celery stop their own children), and the SIGKILL of the whole group waits for the worker's
soft-shutdown timeout plus a margin. Nothing would be lost either way (acks_late and the
ledger), but a clean stop leaves no work for the sweeper."""

import errno
import os
import signal
import sys

import honcho.compat
import honcho.manager
from django.conf import settings  # importing `studio` has set DJANGO_SETTINGS_MODULE
from honcho.command import main


def terminate_main_process(self, pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ESRCH):
            raise


if __name__ == "__main__":
    honcho.compat.ProcessManager.terminate = terminate_main_process
    honcho.manager.KILL_WAIT = settings.CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT + 15  # read at shutdown
    sys.exit(main())
