"""The Celery app. Its settings live in studio/settings.py under the CELERY_ namespace,
chosen per the runtime contract (docs/ARCHITECTURE.md#runtime-contract; the settings and
why, docs/RELIABILITY.md §11: acks late, reject on
worker lost, prefetch 1, JSON only, time limits below the lease and visibility timeout)."""

import os

from celery import Celery
from celery.signals import (
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
)

from integrations import durability
from studio import kombu_redis_fix

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
kombu_redis_fix.install()  # a worker must survive Redis dying mid-task (see the module)

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def consume_connection_queues(sender, **kwargs) -> None:
    """Workers start on `--queues default`; add the other lanes and the per-connection delivery queues."""
    # lazy: studio/__init__.py loads this module before Django's app registry; queues imports models
    from integrations.deliveries.queues import consume_all

    # lazy: the same reason; lanes imports models
    from studio import lanes

    lanes.consume(sender)
    consume_all(sender)


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(task=None, **kwargs) -> None:
    """A task is treated like a web request: its connection is kept up to CONN_MAX_AGE
    (0 on SQLite: closed after each task) and dropped when it is broken or saw an error,
    so a restarted PostgreSQL costs at most one failed task per process. Not for eager
    calls: they run inside the caller's connection and transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@worker_process_init.connect
def give_claims_back_on_sigterm(**kwargs) -> None:
    """A pool process told to stop hands its rows back instead of dying mid-task and leaving
    them to the lease (integrations/leases.py, docs/RELIABILITY.md §3)."""
    # lazy: studio/__init__.py loads this module before Django's app registry is ready
    from integrations import leases

    leases.install_stop_handler()


@worker_init.connect
@worker_process_init.connect
def relax_worker_commits(**kwargs) -> None:
    """A worker's own bookkeeping commits without waiting for the disk; the claim of a
    delivery, before its request leaves, still waits (integrations/durability.py)."""
    from django.conf import settings

    if settings.SWITCHBOARD_WORKER_ASYNC_COMMIT:
        durability.relax_commits()


@worker_process_shutdown.connect
def close_database_connections_on_exit(**kwargs) -> None:
    """Kept connections are closed when a pool process stops, so PostgreSQL sees a clean
    goodbye instead of waiting to notice a dead socket."""
    from django.db import connections

    connections.close_all()
