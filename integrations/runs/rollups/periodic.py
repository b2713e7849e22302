"""Periodic task of the run roll-ups, synced into django-celery-beat by `manage.py sync_schedules`."""

PERIODIC = [
    ("runs: roll up closed hours", "integrations.runs.rollups.tasks.roll_up_runs", 60),
]
