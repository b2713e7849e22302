"""The Celery app. Its settings live in studio/settings.py under the CELERY_ namespace,
chosen per the runtime contract in DESIGN.md and RELIABILITY.md (acks late, reject on
worker lost, prefetch 1, JSON only, time limits below the lease and visibility timeout)."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def consume_connection_queues(sender, **kwargs) -> None:
    """Workers start on `--queues default`; add the per-connection delivery queues."""
    from integrations.deliveries.queues import consume_all

    consume_all(sender)
