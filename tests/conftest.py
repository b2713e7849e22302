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


# --- Browser fixtures: a headless Chromium page against pytest-django's live_server ----------
# Defined here, once for the whole suite, so every browser test (in tests/browser/ or beside
# the feature it checks) shares one Playwright session: a second sync Playwright started while
# the first is alive fails ("using Playwright Sync API inside the asyncio loop").
#
#     @pytest.mark.browser
#     def test_something(page, login, live_server):
#         login(page, "analyst")            # demo persona from the `personas` fixture
#         page.goto(live_server.url + "/connections/")

# The sync Playwright API runs an event loop in this thread; Django's ORM then refuses
# to run "from an async context" unless told this is deliberate (tests only).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def login(personas, live_server):
    """login(page, "admin") signs in through the login form; personas' password is pw-<name>."""

    def sign_in(page, username: str) -> None:
        page.goto(live_server.url + "/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "pw-" + username)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(live_server.url + "/")

    return sign_in
