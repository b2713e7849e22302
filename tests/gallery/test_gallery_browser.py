"""The gallery in a browser: an analyst installs a template by keyboard and lands in the flow's
editor; the page has no serious or critical axe-core violation wide and at 390 px, does not
scroll sideways on a phone, and names the missing connections. Screenshots go to
/tmp/sb-gallery-*.png."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from integrations.connections.models import Connection
from integrations.flows.models import Flow
from integrations.gallery.catalog import TEMPLATES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BLOCKING = ("serious", "critical")


def blocking(page):
    return [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in BLOCKING]


def test_analyst_installs_a_template_by_keyboard(page, login, live_server):
    Connection.objects.create(name="kantata", kind="kantata", base_url="https://kantata.example.com")
    login(page, "analyst")
    page.goto(live_server.url + "/gallery/")
    card = page.locator("[data-testid=template-time-to-billing]")
    assert "Missing: netsuite." in card.locator("[data-testid=missing]").inner_text()
    assert page.locator("article.gallery-card").count() == len(TEMPLATES)
    assert blocking(page) == []
    page.screenshot(path="/tmp/sb-gallery-wide.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert blocking(page) == []
    page.screenshot(path="/tmp/sb-gallery-390.png", full_page=True)
    button = page.locator("[data-testid=install-time-to-billing]")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/flows/time-to-billing/")
    assert Flow.objects.get(key="time-to-billing").status == "draft"
    page.goto(live_server.url + "/gallery/")
    assert page.locator("[data-testid=template-time-to-billing] [data-testid=installed]").is_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path="/tmp/sb-gallery-installed.png", full_page=True)


def test_a_viewer_sees_the_cards_without_install(page, login, live_server):
    login(page, "viewer")
    page.goto(live_server.url + "/gallery/")
    assert page.locator("[data-testid^=install-]").count() == 0
    assert page.locator("[data-testid=gallery-readonly]").is_visible()
