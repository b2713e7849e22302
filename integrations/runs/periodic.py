"""Periodic tasks of the runtime, synced into django-celery-beat by `manage.py sync_schedules`."""

PERIODIC = [
    ("runs: dispatch due runs", "integrations.runs.tasks.dispatch_due_runs", 10),
    ("runs: sweep expired leases", "integrations.runs.tasks.sweep_expired_runs", 30),
    ("runs: dispatch due chunks", "integrations.runs.tasks.dispatch_due_chunks", 10),
    ("runs: sweep expired chunks", "integrations.runs.tasks.sweep_expired_chunks", 30),
    ("runs: flush due batches", "integrations.runs.tasks.flush_due_batches", 30),
    ("runs: resume stalled bulk jobs", "integrations.runs.tasks.resume_stalled_bulk_jobs", 60),
]
