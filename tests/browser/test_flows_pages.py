"""The flow pages in Chromium: the list empty and long (wide and at 390 px), the editor driven by
keyboard only (open a step, save a form, see an error at its field), the publish page's
blockers; axe-core finds no serious or critical violation. Screenshots go to
$SWITCHBOARD_SCREENSHOTS when it is set (to look at them)."""

import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from integrations.connections.models import Connection
from integrations.flows import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BLOCKING = {"serious", "critical"}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def patient(page):
    """The shared CI machine can be slow to answer the first request of a live server."""
    page.set_default_timeout(30_000)


def blocking(page) -> list:
    found = [v for v in Axe().run(page).response["violations"] if v["impact"] in BLOCKING]
    return [(v["id"], [n["html"][:160] for n in v["nodes"][:3]]) for v in found]


def shot(page, name: str) -> None:
    folder = os.environ.get("SWITCHBOARD_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"flows-{name}.png"), full_page=True)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_list_empty_then_long_wide_and_on_a_phone(page, login, personas):
    login(page, "analyst")
    page.goto("/flows/")
    expect(page.locator("[data-testid=flows-empty]")).to_contain_text("No flows yet")
    shot(page, "list-empty")
    for i in range(60):
        services.create_flow(personas["analyst"], key=f"flow-{i:02}", name=f"Flow number {i:02} with a long name")
    page.goto("/flows/")
    expect(page.locator("[data-testid=flow-pager]")).to_contain_text("Page 1 of 2 (60 flows)")
    assert blocking(page) == []
    shot(page, "list-long")
    page.fill("#id_q", "flow number 07")
    page.press("#id_q", "Enter")
    expect(page.locator("[data-testid=flow-row-flow-07]")).to_be_visible()
    expect(page.locator("[data-testid=flow-row-flow-08]")).to_have_count(0)
    assert "q=flow%20number%2007" in page.url  # the filter is in the address
    page.set_viewport_size(PHONE)
    page.goto("/flows/")
    assert no_sideways_scroll(page)
    assert blocking(page) == []
    shot(page, "list-phone")


def test_editor_by_keyboard_with_an_error_at_its_field(page, login, personas):
    Connection.objects.create(name="erp", kind="generic_rest", base_url="https://erp.example.com")
    definition = {
        "trigger": {"type": "manual"},
        "steps": [{"id": "post", "type": "deliver", "connection": "erp", "object": "job", "action": "create"}],
    }
    flow = services.create_flow(personas["analyst"], key="kb", name="Keyboard")
    services.save_draft(flow, personas["analyst"], definition, strict=False)
    login(page, "analyst")
    page.goto("/flows/kb/")
    expect(page.locator("[data-testid=step-badge-0]")).to_contain_text("1 to fix")
    page.focus("[data-testid=step-open-0]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=step-panel-0]")).to_be_visible()
    page.focus("[data-testid=field-key]")
    page.keyboard.type("job-{{ record.id")
    page.focus("[data-testid=step-save]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=error-key]")).to_be_visible()
    assert blocking(page) == []
    shot(page, "editor-error")
    page.fill("[data-testid=field-key]", "job-{{ record.id }}")
    page.focus("[data-testid=step-save]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=step-badge-0]")).to_have_text("ok")
    page.set_viewport_size(PHONE)
    page.goto("/flows/kb/?step=0")
    expect(page.locator("[data-testid=step-panel-0]")).to_be_visible()
    assert no_sideways_scroll(page)
    assert blocking(page) == []
    shot(page, "editor-phone")


def test_publish_refused_with_the_list_of_what_to_fix(page, login, personas):
    definition = {
        "trigger": {"type": "schedule", "cron": "0 25 * * *"},
        "steps": [
            {"id": "post", "type": "deliver", "connection": "gone", "object": "job", "action": "create", "key": "k"}
        ],
    }
    flow = services.create_flow(personas["analyst"], key="broken", name="Broken")
    services.save_draft(flow, personas["analyst"], definition, strict=False)
    login(page, "analyst")
    page.goto("/flows/broken/publish/")
    blockers = page.locator("[data-testid=publish-blockers]")
    expect(blockers).to_contain_text("trigger.cron")
    expect(blockers).to_contain_text("connection 'gone' does not exist")
    page.fill("[data-testid=publish-notes]", "try")
    page.click("[data-testid=publish-submit]")
    expect(page.locator("[data-testid=publish-error]")).to_contain_text("problems to fix")
    assert blocking(page) == []
    shot(page, "publish-refused")
    assert not flow.versions.filter(state="published").exists()
