"""Periodic tasks of this app, synced into django-celery-beat by `manage.py sync_schedules`.

Any app may have a `periodic.py` with PERIODIC = [(name, dotted task path, seconds), ...]."""

PERIODIC = [
    ("worker heartbeat", "integrations.health.tasks.heartbeat", 15),
]
