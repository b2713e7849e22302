"""Contract-test plumbing: a live server whose sandboxes the connectors reach over real HTTP."""

from __future__ import annotations


def use_sandboxes(live_server, settings) -> str:
    """Call from a fixture: the live server's origin, allowed by the outbound HTTP module as the sandbox origin;
    a per-test in-memory cache so cached tokens never leak between tests."""
    settings.SWITCHBOARD_SANDBOXES_ENABLED = True
    settings.SWITCHBOARD_SANDBOX_ORIGIN = live_server.url
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "contract"}}
    return live_server.url


def make_connection(kind: str, base_url: str, config: dict, credentials: dict):
    from integrations.connections.models import Connection

    name = f"{kind}-{Connection.objects.filter(kind=kind).count() + 1}"
    connection = Connection(name=name, kind=kind, base_url=base_url, config=config)
    connection.set_credentials(credentials)
    connection.save()
    return connection
