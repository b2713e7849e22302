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


def wait_for(check, timeout: float = 10.0) -> bool:
    """Poll `check()` until true. SQLite's shared in-memory test database answers "table is
    locked" while the live server thread writes, so a locked read just means "not yet"."""
    import time

    from django.db import OperationalError

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return True
        except OperationalError:
            pass
        time.sleep(0.05)
    return False
