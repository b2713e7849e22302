"""The canonical pages in a real browser: search by keyboard, where-used links to the flow,
axe-core clean wide and at 390 px without sideways scrolling."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_flow_test_panel import PHONE, WIDE, blocking, fits, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def flow(personas):
    from integrations.flows.services import create_flow
    from tests.ui.test_canonical_pages import PROJECT_FLOW

    return create_flow(personas["analyst"], key="won-deals", name="Won deals", definition=PROJECT_FLOW)


def test_search_by_keyboard_and_follow_where_used_to_the_flow(page, login, flow):
    login(page, "viewer")
    page.goto("/canonical/")
    page.click("[data-testid=canonical-row-project] a")
    expect(page.locator("h1")).to_contain_text("project@1")
    page.locator("[data-testid=canonical-q]").focus()
    page.keyboard.type("stat")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=field-status]")).to_be_visible()
    expect(page.locator("[data-testid=field-name]")).to_have_count(0)
    link = page.locator("[data-testid=used-status] a").first
    expect(link).to_have_attribute("href", "/flows/won-deals/")
    page.goto("/canonical/project/?q=nothing-matches-this")
    expect(page.locator("[data-testid=canonical-no-match]")).to_be_visible()
    shot(page, "canonical-no-match")


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["wide", "phone"])
def test_the_canonical_pages_pass_axe_and_fit_the_screen(page, login, flow, viewport):
    login(page, "viewer")
    page.set_viewport_size(viewport)
    tag = "phone" if viewport == PHONE else "wide"
    found = {}
    for path, name in (
        ("/canonical/", "list"),
        ("/canonical/project/", "project"),
        ("/canonical/timesheet/", "timesheet"),
    ):
        page.goto(path)
        found[path] = blocking(page)
        fits(page, viewport["width"])
        shot(page, f"canonical-{name}-{tag}")
    assert not any(found.values()), found
