"""Periodic tasks of approvals, synced into django-celery-beat by `manage.py sync_schedules`."""

PERIODIC = [
    ("approvals: expire past-due tasks", "integrations.approvals.tasks.expire_due_approvals", 60),
]
