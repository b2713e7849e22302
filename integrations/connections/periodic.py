"""Periodic tasks of the connections app, synced into django-celery-beat by `manage.py sync_schedules`."""

PERIODIC = [
    ("connections: health check", "integrations.connections.tasks.check_connections", 300),
]
