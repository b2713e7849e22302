"""The crosswalk pages in Chromium: searching a long crosswalk by keyboard, a link refused
for want of a reason, the ownership page changed by an analyst, the review queue and an
ownership conflict resolved by an operator; axe-core finds no serious or critical
violation and nothing is wider than the screen, wide or at 390 px."""

import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from integrations.crosswalk.enforcement import Conflict, HeldBack
from integrations.crosswalk.matching import first_contact
from integrations.crosswalk.models import CrosswalkLink
from integrations.crosswalk.ownership import owner_of
from integrations.events.services import ingest_event
from integrations.reconcile.conflicts import on_ownership_conflict
from integrations.runs.models import RunException
from tests.runtime.conftest import INVOICE_FLOW, crm, doorbells, publish_flow  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
BLOCKING = {"serious", "critical"}
WIDEST = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)
  .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
SHOTS = os.environ.get("SWITCHBOARD_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def serious(results) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v.get("impact") in BLOCKING]  # fmt: skip


@pytest.fixture
def crosswalk(db):
    rows = []
    for n in range(1, 121):
        canonical = f"W-{21000 + n}"
        ids = {"kantata": str(20300 + n), "netsuite": str(300 + n) if n % 7 else ""}
        rows += [CrosswalkLink(object="worker", canonical_id=canonical, system=system, external_id=external)
                 for system, external in ids.items() if external]  # fmt: skip
    CrosswalkLink.objects.bulk_create(rows)
    first_contact("client", "netsuite", "1001", {"name": "Contoso Holdings"})
    first_contact("client", "salesforce", "001A000000Contoso", {"name": "Contoso Holdings Inc."})


@pytest.fixture
def conflict(personas, crm, doorbells):  # noqa: F811
    publish_flow(personas["analyst"], INVOICE_FLOW)
    run = ingest_event(source="crm", type="invoice.approved", external_id="1", payload={"id": "A", "amount": 1}).runs[0]
    held = HeldBack("worker", "W-21001", "kantata", "psa", "netsuite", "employee", "upsert", "k-1", "externalId",
                    "W-21001", (Conflict("laborCost", "cost_rate", "hr", 120.0, True, "workday", 150.0),))  # fmt: skip
    return on_ownership_conflict(run, "post", held)


def test_search_a_long_crosswalk_by_keyboard_and_a_link_needs_a_reason(page, login, crosswalk):
    page.set_default_timeout(30_000)  # the shared CI machine can be slow to serve a page
    login(page, "operator")
    page.goto("/crosswalk/worker/")
    expect(page.locator("[data-testid=xwalk-row]")).to_have_count(50)
    shot(page, "crosswalk-long-list")
    page.locator("[data-testid=xwalk-search]").focus()
    page.keyboard.type("20321")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=xwalk-row]")).to_have_count(1)
    expect(page.locator("[data-testid=xwalk-row]")).to_contain_text("W-21021")
    page.goto("/crosswalk/worker/?missing=netsuite")
    expect(page.locator("[data-testid=xwalk-row]")).to_have_count(17)
    page.locator("#link-form summary").click()
    page.fill("#link-canonical", "W-21007")
    page.fill("#link-system", "netsuite")
    page.fill("#link-external", "301")  # W-21001's id already
    page.fill("#link-reason", "found by hand")
    page.click("[data-testid=xwalk-link-submit]")
    expect(page.locator(".message-error")).to_contain_text("already linked to W-21001")
    shot(page, "crosswalk-link-error")
    page.goto("/crosswalk/client/?q=nothing")
    expect(page.locator("[data-testid=xwalk-empty]")).to_be_visible()
    shot(page, "crosswalk-empty")


def test_an_analyst_changes_an_owner_and_an_operator_reviews_and_resolves(page, login, crosswalk, conflict):
    page.set_default_timeout(30_000)
    login(page, "analyst")
    page.goto("/crosswalk/ownership/?object=worker")
    page.select_option("[data-testid=owner-select-practice]", "psa")
    page.locator("[data-testid=ownership-row-practice] input[name=reason]").fill("PSA runs practices now")
    page.click("[data-testid=owner-save-practice]")
    expect(page.locator("[data-testid=owner-practice]")).to_have_text("PSA")
    assert owner_of("worker", "practice") == "psa"
    shot(page, "ownership")
    page.context.clear_cookies()
    login(page, "operator")
    page.goto("/crosswalk/review/")
    shot(page, "review-queue")
    page.goto("/crosswalk/conflicts/")
    expect(page.locator("[data-testid=owner-value]")).to_have_text("120.0")
    page.click(f"[data-testid=conflict-resolve-{conflict.pk}]")  # no reason: the browser asks for one
    assert RunException.objects.get().status == "open"
    page.fill(f"#conflict-reason-{conflict.pk}", "HR's rate is the contract rate")
    shot(page, "conflicts")
    page.click(f"[data-testid=conflict-resolve-{conflict.pk}]")
    expect(page.locator("[data-testid=conflicts-empty]")).to_be_visible()
    assert RunException.objects.get().status == "resolved"


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations_and_nothing_wider_than_the_screen(
    page, login, crosswalk, conflict, viewport
):
    page.set_default_timeout(30_000)
    login(page, "admin")
    page.set_viewport_size(viewport)
    axe, found = Axe(), {}
    paths = ("/crosswalk/", "/crosswalk/worker/", "/crosswalk/client/?conflict=1", "/crosswalk/worker/?q=zzz",
             "/crosswalk/ownership/?object=worker", "/crosswalk/review/", "/crosswalk/conflicts/")  # fmt: skip
    for path in paths:
        page.goto(path)
        problems = serious(axe.run(page))
        if problems:
            found[path] = problems
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > viewport["width"]:
            print(path, page.evaluate(WIDEST))
        assert width <= viewport["width"], f"{path} is {width}px wide at {viewport['width']}px"
        if viewport is PHONE:
            shot(page, "phone" + path.replace("/", "_").replace("?", "_"))
    assert not found, found
