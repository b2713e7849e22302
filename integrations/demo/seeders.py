"""What `manage.py seed_demo` loads, in order. Each entry is a dotted path to an
idempotent `seed(stdout)` function owned by its app (running it twice changes nothing)."""

SEEDERS = [
    "integrations.demo.users.seed",
    "integrations.connections.demo.seed",
    "integrations.crosswalk.demo.seed",
    "integrations.gallery.demo.seed",
    "integrations.demo.history.seed",
    "integrations.demo.reconciliation.seed",
]
