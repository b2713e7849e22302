"""The run pages in a real browser: find a failed run by its business key, open it and see
the failed step open with the vendor's error, switch its tabs by keyboard, open a step that
loads its payloads on demand, load a cut payload in full; axe-core finds no serious or
critical violation on either page, wide or at phone width, and neither page scrolls sideways."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.ui.test_runs import VENDOR_ERROR, make_failed_run, make_flow, make_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
BLOCKING = {"serious", "critical"}


def _history():
    version = make_flow()[0]
    for n in range(60):
        make_run(version, key=f"PRJ-{n + 1000:04d}", ago=timedelta(minutes=n + 10))
    failed = make_failed_run(version, key="PRJ-0042", ago=timedelta(minutes=3))
    make_run(version, key="PRJ-0042", ago=timedelta(minutes=1), trigger="retry", retry_of=failed)
    return failed


def test_find_a_failed_run_by_business_key_and_see_the_vendors_error(page, login, live_server):
    failed = _history()
    login(page, "viewer")
    page.goto("/runs/")
    expect(page.locator("[data-testid=run-row]")).to_have_count(50)

    page.fill("[data-testid=filter-business_key] input", "PRJ-0042")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=run-row]")).to_have_count(2)
    assert "business_key=PRJ-0042" in page.url  # the filter is in the address
    page.select_option("[data-testid=filter-status] select", "failed")
    expect(page.locator("[data-testid=run-row]")).to_have_count(1)
    assert "status=failed" in page.url and "flow=" not in page.url  # empty filters left out

    page.click(f"[data-testid=run-row][data-run='{failed.pk}'] [data-testid=run-link]")
    page.wait_for_url(f"{live_server.url}/runs/{failed.pk}/")
    step = page.locator("#failed-step")
    expect(step.locator("details[data-failed]")).to_have_attribute("open", "")
    expect(step.locator("[data-testid=step-error]")).to_have_text(VENDOR_ERROR)
    expect(step.locator("[data-testid=attempt]")).to_contain_text("HTTP 422")
    assert page.evaluate("document.getElementById('failed-step').getBoundingClientRect().top") < 844

    # Tabs by keyboard: the arrow moves to Output and shows its panel only.
    step.locator("[data-testid=tab-input]").focus()
    page.keyboard.press("ArrowRight")
    expect(step.locator("[data-testid=tab-output]")).to_be_focused()
    expect(step.locator("[data-testid=payload-input]")).to_be_hidden()
    expect(step.locator("[data-testid=payload-output]")).to_be_hidden()  # the failed step has no output
    expect(step.locator("[data-testid=payload-empty]").last).to_be_visible()

    # A closed step loads its payloads when opened.
    shape = page.locator("[data-testid=step][data-step=shape]")
    shape.locator("summary").click()
    expect(shape.locator("[data-testid=payload-input]")).to_contain_text('"project": "PRJ-0042"')
    expect(shape.locator("[data-testid=payload-input]")).not_to_contain_text("sk-live-secret")


def test_a_five_megabyte_payload_opens_fast_and_loads_in_full_on_request(page, login, live_server):
    version = make_flow()[0]
    run = make_failed_run(version, payload={"lines": [{"line": n, "note": "x" * 90} for n in range(50_000)]})
    login(page, "viewer")
    page.goto(f"/runs/{run.pk}/")
    shape = page.locator("[data-testid=step][data-step=shape]")
    started = page.evaluate("performance.now()")
    shape.locator("summary").click()
    expect(shape.locator("[data-testid=payload-truncated]")).to_be_visible()
    assert page.evaluate("performance.now()") - started < 1000
    expect(shape.locator("[data-testid=payload-output]")).to_be_hidden()  # tabs work on loaded steps too
    shape.locator("[data-testid=payload-load-full]").click()
    expect(shape.locator("[data-testid=payload-full]")).to_contain_text('"line": 49999', timeout=15_000)


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations_on_the_run_pages(page, login, live_server, viewport):
    failed = _history()
    login(page, "viewer")
    page.set_viewport_size(viewport)
    axe = Axe()
    found = {}
    for path in ("/runs/", "/runs/?status=cancelled", "/runs/?since=nope", f"/runs/{failed.pk}/"):
        page.goto(path)
        problems = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in axe.run(page).response["violations"]
            if v.get("impact") in BLOCKING
        ]
        if problems:
            found[path] = problems
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{path} is {width}px wide at {viewport['width']}px"
    assert not found, found


def test_at_phone_width_the_filters_fold_away_and_open_from_the_keyboard(page, login, live_server):
    _history()
    login(page, "viewer")
    page.set_viewport_size(PHONE)
    page.goto("/runs/")
    box = page.locator("[data-filter-box]")
    expect(box).not_to_have_attribute("open", "")
    expect(page.locator("[data-testid=run-row]").first).to_be_in_viewport()
    box.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=filter-business_key] input")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
