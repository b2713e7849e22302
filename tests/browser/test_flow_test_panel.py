"""The test panel and the export/import page in a real browser: a test-run by keyboard shows
each step (writes labelled simulated), a bad input shows its error at the field, a sample is
pinned with its expected output; axe-core finds no serious or critical violation, wide and at
390 px, and nothing scrolls sideways. Screenshots go to $SWITCHBOARD_SHOTS when it is set."""

import json
import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
BLOCKING = ("serious", "critical")
SHOTS = os.environ.get("SWITCHBOARD_SHOTS", "")


@pytest.fixture
def flow(personas):
    from integrations.connections.models import Connection
    from integrations.flows.services import create_flow
    from tests.runtime.conftest import INVOICE_FLOW

    Connection.objects.create(name="crm", kind="generic_webhook", base_url="https://crm.example.com")
    Connection.objects.create(name="erp", kind="generic_rest", base_url="https://erp.example.com")
    return create_flow(personas["analyst"], key="invoices", name="Invoices", definition=INVOICE_FLOW)


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def blocking(page) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in Axe().run(page).response["violations"]
        if v.get("impact") in BLOCKING
    ]


WIDEST = """w => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1
  && !e.parentElement.closest('.table-scroll, pre')).slice(0, 4)
  .map(e => e.tagName + '.' + e.className + '#' + (e.dataset.testid || ''))"""


def fits(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide at {width}px: {page.evaluate(WIDEST, width)}"


def test_a_test_run_by_keyboard_then_pin_the_sample_with_its_output(page, login, flow):
    login(page, "analyst")
    page.goto("/flows/invoices/test/")
    expect(page.locator("[data-testid=samples-empty]")).to_be_visible()
    shot(page, "test-panel-empty")
    page.locator("[data-testid=test-record]").focus()
    page.keyboard.type(json.dumps({"id": "INV-7", "amount": 120}))
    page.keyboard.press("Tab")  # to the file input, the run number, the connection fields...
    page.locator("[data-testid=test-run]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=test-status]")).to_have_text("completed")
    expect(page.locator("[data-testid=simulated-post]")).to_be_visible()
    expect(page.locator("[data-testid=delivery-1]")).to_contain_text("invoice:INV-7")
    expect(page.locator("[data-testid=step-status-shape]")).to_have_text("succeeded")
    shot(page, "test-panel-result")
    page.fill("[data-testid=pin-name]", "Big invoice")
    page.check("[data-testid=pin-expected]")
    page.click("[data-testid=pin-save]")
    expect(page.locator("[data-testid=sample-big-invoice] [data-testid=sample-regression]")).to_be_visible()
    page.click("[data-testid=run-regression]")
    expect(page.locator("[data-testid=regression-result]")).to_contain_text("All 1 regression sample(s)")


def test_a_bad_input_shows_its_error(page, login, flow):
    login(page, "analyst")
    page.goto("/flows/invoices/test/")
    page.fill("[data-testid=test-record]", '{"id": ')
    page.click("[data-testid=test-run]")
    expect(page.locator("#test-result [data-testid=error-record]")).to_contain_text("not valid JSON")
    shot(page, "test-panel-error")


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["wide", "phone"])
def test_the_pages_pass_axe_and_fit_the_screen(page, login, flow, personas, viewport):
    from integrations.flowtests.samples import pin

    for n in range(30):  # a long list of samples
        pin(flow, personas["analyst"], name=f"Sample {n:02} with a rather long descriptive name", record={"id": n})
    login(page, "analyst")
    page.set_viewport_size(viewport)
    found = {}
    tag = "phone" if viewport == PHONE else "wide"
    page.goto("/flows/invoices/test/")
    page.fill("[data-testid=test-record]", json.dumps({"id": "INV-" + "9" * 80, "amount": 1}))
    page.click("[data-testid=test-run]")
    expect(page.locator("[data-testid=test-status]")).to_be_visible()
    page.locator("[data-testid=test-result] details").first.locator("summary").click()
    found["test"] = blocking(page)
    shot(page, f"test-panel-long-{tag}")
    fits(page, viewport["width"])
    page.goto("/flows/invoices/io/")
    document = page.request.get("/flows/invoices/io/export.json").json()
    document["flows"][0]["definition"]["steps"][1]["connection"] = "erp-missing"
    page.fill("[data-testid=import-text]", json.dumps(document))
    page.click("[data-testid=import-preview]")
    expect(page.locator("[data-testid=import-blocked]")).to_be_visible()
    expect(page.locator("[data-testid=missing-connections-invoices]")).to_contain_text("erp-missing")
    found["io"] = blocking(page)
    shot(page, f"io-plan-{tag}")
    fits(page, viewport["width"])
    assert not any(found.values()), found
