"""What event intake announces to the apps above it (connected in their AppConfig.ready)."""

from integrations.hooks import Hook

# A new event was stored; sent inside the transaction that stored it, with `event` and
# `versions` (the flow versions a poll asks for, or None: every matching flow). Each handler
# returns the runs it started, so the runs commit (or roll back) together with the event.
event_stored = Hook("events.event_stored")
