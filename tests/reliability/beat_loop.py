"""What beat triggers, every half second, in a process of its own: the run, chunk and delivery
dispatchers and sweepers, publishing to the broker in REDIS_URL. For fault tests where the
test process must not publish itself (its Celery app points at another broker).

    DJANGO_SETTINGS_MODULE=... DATABASE_URL=... REDIS_URL=... python beat_loop.py
"""

import logging
import time

import django

django.setup()

from integrations.deliveries import tasks as deliveries  # noqa: E402  (after django.setup)
from integrations.runs import tasks as runs  # noqa: E402

JOBS = (
    runs.dispatch_due_runs,
    runs.sweep_expired_runs,
    runs.dispatch_due_chunks,
    runs.sweep_expired_chunks,
    deliveries.dispatch_deliveries,
    deliveries.sweep_deliveries,
)
log = logging.getLogger("beat_loop")

while True:
    for job in JOBS:
        try:
            job()
        except Exception:  # the broker or the database is down: next round
            log.warning("%s failed", job.name, exc_info=True)
    time.sleep(0.5)
