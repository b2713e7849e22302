"""The layout in a real browser: sign in, walk the navigation, sign out."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STUDIO_SECTIONS = {
    "flows": "Flows",
    "runs": "Runs",
    "exceptions": "Exceptions",
    "approvals": "Approvals",
    "connections": "Connections",
    "canonical": "Canonical objects",
    "dashboards": "Dashboards",
}


def walk_nav(page, sections: dict[str, str]) -> None:
    for key, heading in sections.items():
        page.click(f"[data-testid=nav-{key}]")
        expect(page.locator("h1")).to_have_text(heading)
        expect(page.locator(f"[data-testid=nav-{key}]")).to_have_attribute("aria-current", "page")


def log_out(page, live_server) -> None:
    page.click("[data-testid=user-menu] summary")
    page.click("[data-testid=logout]")
    page.wait_for_url(live_server.url + "/login/")
    page.goto(live_server.url + "/flows/")
    expect(page).to_have_url(live_server.url + "/login/?next=/flows/")


def test_admin_walks_every_section_including_the_audit_log(page, login, live_server):
    login(page, "admin")
    expect(page.locator("[data-testid=home-role]")).to_contain_text("Admin")
    assert page.evaluate("typeof htmx") == "object"  # django-htmx's bundled script loaded
    walk_nav(page, STUDIO_SECTIONS | {"audit": "Audit log"})
    expect(page.locator("[data-testid=audit-table]")).to_be_visible()
    log_out(page, live_server)


def test_analyst_sees_no_audit_log_and_is_refused_it(page, login, live_server):
    login(page, "analyst")
    walk_nav(page, STUDIO_SECTIONS)
    expect(page.locator("[data-testid=nav-audit]")).to_have_count(0)
    response = page.goto(live_server.url + "/audit/")
    assert response.status == 403
    expect(page.locator("[data-testid=forbidden]")).to_be_visible()
    log_out(page, live_server)


def test_wrong_password_shows_an_error(page, live_server, personas):
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong")
    page.click("[data-testid=login-submit]")
    expect(page.locator("[data-testid=login-error]")).to_be_visible()
