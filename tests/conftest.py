"""Shared fixtures: personas (one user per role) and skips for tests that need real services.

Tests marked `postgres`, `redis` or `browser` run in CI (.ci/run points DATABASE_URL and
REDIS_URL at real servers and installs Chromium) and are reported as skipped, with the
reason, on a machine without them."""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"


def _redis_up() -> bool:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return False
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def _postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_collection_modifyitems(config, items):
    reasons = {
        "postgres": None if _postgres() else "needs PostgreSQL: set DATABASE_URL (CI does)",
        "redis": None if _redis_up() else "needs Redis: set REDIS_URL to a running server (CI does)",
        "browser": None if shutil.which(CHROMIUM) else f"needs Chromium at {CHROMIUM} (CI installs it)",
    }
    for item in items:
        for marker, reason in reasons.items():
            if reason and item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))


PERSONAS = ("viewer", "analyst", "approver", "operator", "admin")


def make_user(username: str, role: str | None):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username=username, password="pw-" + username, email=f"{username}@example.com")
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def personas(db):
    """{'viewer': User, ..., 'outsider': User with no role}."""
    users = {name: make_user(name, name.capitalize()) for name in PERSONAS}
    users["outsider"] = make_user("outsider", None)
    return users


@pytest.fixture
def client_for(client, personas):
    """client_for('analyst') → a test client logged in as that persona."""
    from django.test import Client

    def build(name: str) -> Client:
        c = Client()
        c.force_login(personas[name])
        return c

    return build
