"""The exception queue in a real browser: find a failed run's exception by business key,
edit its input (a JSON mistake is caught before anything is sent, a wrong value by the
server's dry run), see the diff, resubmit, and the retry posts exactly once; select a page
of exceptions by keyboard; no serious or critical axe-core violation, wide or at 390 px."""

import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from integrations.events.services import ingest_event
from integrations.runs.models import Run, RunException
from integrations.runs.services import execute_run
from tests.api.runtime_fixtures import *  # noqa: F403
from tests.runtime.test_event_to_delivery import drive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
BLOCKING = {"serious", "critical"}


def failed(n):
    for i in range(n):
        event = ingest_event(source="crm", type="invoice.approved", external_id=f"bad-{i}", payload={"amount": i})
        execute_run(event.runs[0].pk)


def test_edit_and_resubmit_posts_the_fixed_record_once(
    page, login, live_server, invoice_flow, erp, sim, django_capture_on_commit_callbacks
):
    failed(3)
    login(page, "operator")
    page.goto("/exceptions/")
    page.fill("[data-testid=exc-filter-business_key] input", "bad-2")
    page.click("[data-testid=exc-filter-submit]")
    expect(page.locator("[data-testid=exc-row]")).to_have_count(1)
    page.click("[data-testid=exc-link]")
    expect(page.locator("[data-testid=exc-original]")).to_contain_text('"amount": 2')

    editor = page.locator("[data-json-input]")
    editor.fill('{"amount": 2,')  # not JSON: caught in the page, nothing sent
    page.click("[data-testid=resubmit-review]")
    expect(page.locator("[data-testid=resubmit-input-error]")).to_contain_text("Not valid JSON")
    expect(editor).to_have_attribute("aria-invalid", "true")

    editor.fill(json.dumps({"amount": 20}))  # JSON, but the map step still has no id: the server says so
    page.click("[data-testid=resubmit-review]")
    expect(page.locator("[data-testid=resubmit-input-error]")).to_contain_text("external_ref is required")

    page.locator("[data-json-input]").fill(json.dumps({"id": "INV-2", "amount": 20}))
    page.fill("[data-testid=resubmit-note] input", "id was missing in the CRM")
    page.click("[data-testid=resubmit-review]")
    diff = page.locator("[data-testid=exc-resubmit] [data-testid=diff-row]")
    expect(diff).to_have_count(2)
    expect(diff.nth(0)).to_contain_text("amount")
    expect(diff.nth(1)).to_contain_text("INV-2")
    assert not Run.objects.filter(trigger="retry").exists()  # the confirmation runs nothing

    page.click("[data-testid=resubmit-confirm]")
    expect(page.locator("[data-testid=exc-status]")).to_have_text("Retrying")
    expect(page.locator(".messages")).to_contain_text("Resubmitted as revision 1")
    expect(page.locator("[data-testid=exc-revisions]")).to_contain_text("id was missing in the CRM")
    expect(page.locator("[data-testid=exc-original]")).to_contain_text('"amount": 2')  # the original is kept

    retry = Run.objects.get(trigger="retry")
    assert drive(retry.pk, django_capture_on_commit_callbacks).status == "succeeded"
    assert [(p["external_ref"], p["amount"]) for p in sim.postings()] == [("INV-2", 20)]
    assert RunException.objects.get(business_key="bad-2").status == "resolved"


def test_a_page_of_exceptions_is_selected_and_reviewed_by_keyboard(page, login, live_server, invoice_flow):
    failed(3)
    login(page, "operator")
    page.goto("/exceptions/")
    page.focus("[data-select-page]")
    page.keyboard.press("Space")
    expect(page.locator("[data-row-select]:checked")).to_have_count(3)
    page.focus("[data-testid=bulk-action]")
    page.keyboard.press("ArrowDown")  # first action: retry
    expect(page.locator("[data-testid=bulk-version]")).to_be_visible()
    expect(page.locator("[data-testid=bulk-reason]")).to_be_hidden()
    page.focus("[data-testid=bulk-review]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=bulk-confirm-summary]")).to_contain_text("Retry 3 exceptions")


def _serious(results) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations_and_nothing_wider_than_the_screen(
    page, login, live_server, invoice_flow, viewport
):
    failed(3)
    exc = RunException.objects.first()
    login(page, "operator")
    page.set_viewport_size(viewport)
    axe, found = Axe(), {}
    for path in (
        "/exceptions/",
        "/exceptions/?group=signature",
        "/exceptions/?tab=resolved",
        "/exceptions/?classification=purple",
        f"/exceptions/{exc.pk}/",
    ):
        page.goto(path)
        problems = _serious(axe.run(page))
        if problems:
            found[path] = problems
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{path} is {width}px wide at {viewport['width']}px"
    page.goto(f"/exceptions/{exc.pk}/")
    page.locator("[data-json-input]").fill('{"id": "INV-0", "amount": 1}')
    page.click("[data-testid=resubmit-review]")
    expect(page.locator("[data-testid=resubmit-confirm]")).to_be_visible()
    problems = _serious(axe.run(page))
    assert not problems and not found, {**found, "resubmit confirmation": problems}
