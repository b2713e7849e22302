"""`make run`'s process supervisor: honcho, with a longer grace period on shutdown.

honcho sends SIGTERM to every process on Ctrl-C and SIGKILLs what is still running 5 s
later. A Celery worker's warm shutdown (finish the task in hand, close the pool) takes
longer than that even when idle, so the worker would always be killed; this waits up to
the worker's own soft-shutdown timeout plus a margin instead. Nothing is lost either way
(acks_late and the ledger), but a clean stop does not leave work to the sweeper."""

import sys

import honcho.manager
from django.conf import settings  # importing `studio` has set DJANGO_SETTINGS_MODULE
from honcho.command import main

if __name__ == "__main__":
    # honcho reads KILL_WAIT at shutdown time.
    honcho.manager.KILL_WAIT = settings.CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT + 15
    sys.exit(main())
