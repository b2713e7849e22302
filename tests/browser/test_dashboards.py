"""The dashboard and the replay page in a real browser: panels load by themselves, a tile
opens a list whose count matches it, the range is chosen by keyboard and kept in the
address, a chart bar is a link; a replay is chosen, dry-run and started by an operator;
axe-core finds no serious or critical violation, wide or at 390 px, and neither page
scrolls sideways."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from integrations.connections.models import Connection
from integrations.deliveries.models import Delivery, DeliveryAttempt
from integrations.events.services import ingest_event
from integrations.flows.demo import APPROVED_TIME_TO_BILLS, OPPORTUNITY_TO_PROJECT
from integrations.runs.models import Run
from studio.ui.dashboards.window import window_for
from tests.runtime.conftest import INVOICE_FLOW
from tests.ui.test_dashboards import exception_for, published
from tests.ui.test_runs import make_failed_run, make_flow, make_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
BLOCKING = {"serious", "critical"}


def demo_history() -> None:
    """A small history over the demo flows: enough for every panel to draw."""
    version = make_flow()[0]
    for n in range(12):
        make_run(version, key=f"PRJ-{n:04d}", ago=timedelta(hours=n * 7))
    for n in range(3):
        # within the last 24 hours whatever the time of day (the 24 h range starts at yesterday's midnight)
        exception_for(make_failed_run(version, key=f"PRJ-9{n:03d}", ago=timedelta(hours=n * 7 + 1)))
    make_run(version, "queued", key="PRJ-Q", ago=timedelta(minutes=12))
    erp = Connection.objects.get(name="erp")
    Connection.objects.filter(pk=erp.pk).update(paused=True, rate_limit_requests=5, rate_limit_interval_seconds=1)
    DeliveryAttempt.objects.filter(delivery__connection=erp).update(http_calls=1)
    run = Run.objects.filter(status="failed").first()
    for n in range(2):
        Delivery.objects.create(idempotency_key=f"held-{n}", run=run, connection=erp, object="Project", action="create")

    hours = published("approved-time-to-netsuite", APPROVED_TIME_TO_BILLS, "Approved time → NetSuite time bills")
    entry = {"approved": True, "time_in_minutes": 450, "rate_in_cents": 16500, "currency": "USD"}
    for n in range(4):
        make_run(hours, "waiting-delivery", key=f"te-{n}", input=entry)
    exception_for(make_run(hours, "failed", key="te-9", input=entry), step="post")
    projects = published("opportunity-to-project", OPPORTUNITY_TO_PROJECT, "Opportunity won → Kantata project")
    make_run(projects, "waiting-approval", key="006Q", ago=timedelta(days=2))
    invoices = published("invoices", INVOICE_FLOW, "Invoices to the ERP")
    for n, region in enumerate(("EMEA", "EMEA", "NA", "APAC")):
        exception_for(make_run(invoices, "failed", key=f"INV-{n}", input={"id": f"INV-{n}", "region": region}))


def axe_blocking(page) -> list:
    results = Axe().run(page)
    return [v for v in results.response["violations"] if v["impact"] in BLOCKING]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_a_tile_opens_a_list_whose_count_matches_and_the_page_passes_axe(page, login, live_server):
    demo_history()
    login(page, "viewer")
    page.goto("/dashboards/")
    failed = page.locator("[data-testid=tile-failed]")
    expect(failed).to_be_visible()  # loaded by htmx on its own
    count = int(failed.get_attribute("data-count"))
    assert count == 8  # 3 of the first flow, 1 time entry, 4 invoices
    page.locator("[data-testid=panel-regions]").scroll_into_view_if_needed()
    expect(page.locator("[data-testid=chart-regions] .chart-wide svg")).to_be_visible()  # loaded when revealed
    expect(page.locator("[data-testid=chart-throughput] svg a").first).to_be_attached()
    assert axe_blocking(page) == []

    failed.click()
    page.wait_for_url("**/runs/?status=failed&since=*")
    expect(page.locator("[data-testid=run-row]")).to_have_count(count)


def test_the_range_is_chosen_by_keyboard_and_kept_in_the_address(page, login, live_server):
    demo_history()
    login(page, "viewer")
    page.goto("/dashboards/")
    expect(page.locator("[data-testid=tile-runs]")).to_be_visible()
    page.locator("[data-testid=range-7d]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboards/?range=7d")
    expect(page.locator("[data-testid=range-7d]")).to_have_attribute("aria-current", "true")
    tile = page.locator("[data-testid=tile-runs]")
    expect(tile).to_be_visible()
    since = window_for("7d").start
    assert int(tile.get_attribute("data-count")) == Run.objects.filter(created_at__gte=since).count()


def test_phone_width_dashboard_and_empty_database(page, login, live_server):
    login(page, "viewer")
    page.set_viewport_size(PHONE)
    page.goto("/dashboards/")
    expect(page.locator("[data-testid=panel-body-top]")).to_be_visible()
    assert page.locator("[data-testid=tile-runs]").bounding_box()["width"] < 195  # two tiles a row
    page.locator("[data-testid=panel-regions]").scroll_into_view_if_needed()
    expect(page.locator("[data-testid=panel-body-regions]")).to_contain_text("No published flow carries invoices")
    assert no_sideways_scroll(page)
    assert axe_blocking(page) == []


def test_an_operator_replays_a_clients_events_after_a_dry_run(page, login, live_server):
    published("invoices", INVOICE_FLOW, "Invoices to the ERP")
    Connection.objects.create(name="crm", kind="generic_webhook", base_url="https://crm.example.com")
    for n in range(3):
        ingest_event(source="crm", type="invoice.approved", external_id=f"e{n}", payload={"id": f"I{n}", "amount": n},
                     business_key="ACME" if n < 2 else "GLOBEX")  # fmt: skip
    login(page, "operator")
    page.set_viewport_size(PHONE)
    page.goto("/replay/")
    page.fill("[data-testid=replay-business_key] input", "ACME")
    page.keyboard.press("Enter")
    page.wait_for_url("**/replay/?*business_key=ACME*")
    expect(page.locator("[data-testid=replay-event]")).to_have_count(2)
    page.click("[data-testid=replay-dry-run]")
    expect(page.locator("[data-testid=preview-row]")).to_have_count(2)
    expect(page.locator("[data-testid=preview-delivery][data-kind=new]")).to_have_count(2)
    assert no_sideways_scroll(page)
    assert axe_blocking(page) == []
    before = Run.objects.count()

    page.click("[data-testid=replay-run]")
    page.wait_for_url("**/replay/progress/?first=*")
    expect(page.locator("[data-testid=replay-bar]")).to_be_visible()
    assert Run.objects.count() == before + 2 and Run.objects.filter(trigger="replay").count() == 2
    expect(page.locator("[data-testid=replay-progress]")).to_contain_text("of 2 runs settled")
    assert axe_blocking(page) == []
