"""Browser fixtures: a headless Chromium page against pytest-django's live_server.

Reuse them in any browser test:

    @pytest.mark.browser
    def test_something(page, login, live_server):
        login(page, "analyst")            # demo persona from the `personas` fixture
        page.goto(live_server.url + "/connections/")
"""

import os

import pytest

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
