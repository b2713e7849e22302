"""Questions the connections app asks the apps above it (answered by handlers connected in
their AppConfig.ready)."""

from integrations.hooks import Hook

# "Which flows use this connection?" Sent with `connection`; each handler returns flow keys.
# Editing the connection then asks for confirmation and deleting it is refused (409).
flows_using = Hook("connections.flows_using")
