"""What the flows app announces to the apps above it (connected in their AppConfig.ready).

Each is sent inside the transaction of the change, with `flow`."""

from integrations.hooks import Hook

# A draft became the flow's new live version (`version` is sent too).
version_published = Hook("flows.version_published")
# The flow was activated or paused.
status_changed = Hook("flows.status_changed")
# Its name, description, tags, owner or invoke setting changed.
settings_changed = Hook("flows.settings_changed")
