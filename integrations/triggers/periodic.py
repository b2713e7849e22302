"""Periodic tasks of the triggers app, synced into django-celery-beat by `manage.py sync_schedules`."""

PERIODIC = [
    ("triggers: resume paused polls", "integrations.triggers.tasks.resume_polls", 5),
    ("triggers: change feeds", "integrations.triggers.tasks.poll_change_feeds", 60),
]
