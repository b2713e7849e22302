"""Periodic tasks of the reconcile app, synced into django-celery-beat by `manage.py sync_schedules`."""

PERIODIC = [
    (
        "reconcile: nightly comparison of workers, projects and hours",
        "integrations.reconcile.tasks.reconcile_all",
        86400,
    ),
]
