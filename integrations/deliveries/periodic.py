"""Periodic tasks of the delivery ledger, synced into django-celery-beat by `manage.py sync_schedules`."""

PERIODIC = [
    ("deliveries: dispatch due deliveries", "integrations.deliveries.tasks.dispatch_deliveries", 2),
    ("deliveries: sweep expired leases", "integrations.deliveries.tasks.sweep_deliveries", 15),
    ("deliveries: prune old throttle events", "integrations.deliveries.tasks.prune_throttle_events", 3600),
]
