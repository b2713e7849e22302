"""Which flows use a connection: answered for the connections app (connections/hooks.py),
which asks before a connection is repointed or deleted."""

from integrations.flows.models import FlowVersion, Watermark


def mentions(value, name: str) -> bool:
    """Does a flow definition refer to the connection `name` anywhere?"""
    if isinstance(value, dict):
        if value.get("connection") == name:
            return True
        return any(mentions(v, name) for v in value.values())
    if isinstance(value, list):
        return any(mentions(v, name) for v in value)
    return False


def flows_using(connection) -> list[str]:
    """Keys of the flows whose draft or published versions use the connection (by name),
    or that keep a poll watermark on it."""
    keys = {v.flow.key for v in FlowVersion.objects.select_related("flow") if mentions(v.definition, connection.name)}
    keys.update(Watermark.objects.filter(connection=connection).values_list("flow__key", flat=True))
    return sorted(keys)
