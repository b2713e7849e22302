"""The pages in a real browser: the navigation at phone width is a menu a keyboard can
open and follow, and axe-core finds no serious or critical accessibility violation on the
pages people use most (home, connections, audit log, users), wide and narrow."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from integrations.audit import services as audit
from integrations.connections.services import create_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
BLOCKING = {"serious", "critical"}


def test_phone_width_navigation_opens_and_follows_by_keyboard(page, login, live_server):
    login(page, "admin")
    page.set_viewport_size(PHONE)
    page.goto("/")
    toggle = page.locator("[data-testid=nav-toggle]")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("[data-testid=nav-flows]")).to_be_hidden()  # folded away, not cut off

    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # brand
    page.keyboard.press("Tab")
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(page.locator("[data-testid=nav-flows]")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("[data-testid=nav-runs]")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/runs/")
    expect(page.locator("h1")).to_have_text("Runs")

    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=nav-users]")).to_be_visible()
    page.keyboard.press("Escape")  # closes, focus back on the button
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _seed():
    crm = create_connection(
        "system:test",
        name="crm",
        kind="generic_rest",
        base_url="https://api.example.com/" + "very-long-path-segment-" * 6,
        config={"auth_type": "none"},
    )
    for n in range(3):
        audit.record("system:test", "connection.updated", crm, message="A long note " + "x" * 180 + f" {n}")
    return crm


def _serious(results) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations(page, login, live_server, viewport):
    _seed()
    login(page, "admin")
    page.set_viewport_size(viewport)
    axe = Axe()
    found = {}
    for path in (
        "/",
        "/connections/",
        "/connections/crm/",
        "/audit/",
        "/audit/?since=not-a-date",
        "/users/",
        "/users/invite/",
        "/users/viewer/",
    ):
        page.goto(path)
        problems = _serious(axe.run(page))
        if problems:
            found[path] = problems
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{path} is {width}px wide at {viewport['width']}px"
    assert not found, found
