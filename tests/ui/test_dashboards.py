"""The dashboard: a shell whose panels load lazily, the range in the URL (a bad one named
with a 400), each tile and chart segment linking to the list it counts — and that list
showing the same number — business tiles over the demo flows' records, an empty panel
saying why, bounded queries, and roles."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.connections.models import Connection
from integrations.deliveries.models import Delivery, DeliveryAttempt
from integrations.events.models import Event
from integrations.flows.demo import APPROVED_TIME_TO_BILLS, OPPORTUNITY_TO_PROJECT
from integrations.flows.models import Flow, FlowVersion
from integrations.gallery.flows import time_to_billing
from integrations.runs.models import BatchGroup, GroupedRecord, Run, RunException
from tests.runtime.conftest import INVOICE_FLOW
from tests.ui.test_runs import make_failed_run, make_flow, make_run

pytestmark = pytest.mark.django_db
PAGE = "/dashboards/"


def panel(client, name: str, range_: str = "24h") -> str:
    response = client.get(f"/dashboards/panels/{name}/?range={range_}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def link(html: str, testid: str) -> tuple[str, int]:
    """(href, data-count) of the element with this testid."""
    tag = re.search(rf'<a [^>]*data-testid="{testid}"[^>]*>', html)
    assert tag, f"no link {testid}"
    href = re.search(r'href="([^"]+)"', tag.group(0)).group(1).replace("&amp;", "&")
    return href, int(re.search(r'data-count="(\d+)"', tag.group(0)).group(1))


def listed_runs(client, href: str) -> int:
    return client.get(href).content.decode().count('data-testid="run-row"')


def listed_exceptions(client, href: str) -> int:
    html = client.get(href).content.decode()
    return int(re.search(r'data-testid="exc-total">(\d+) exception', html).group(1))


def exception_for(run, step="post", status="open", **fields) -> RunException:
    return RunException.objects.create(
        run=run, flow=run.flow_version.flow, step_id=step, status=status, classification="permanent",
        message=f"failed at {step}", message_signature=step, business_key=run.business_key, **fields,
    )  # fmt: skip


def published(key: str, definition: dict, name: str = "") -> FlowVersion:
    flow = Flow.objects.create(key=key, name=name or key, status="active")
    return FlowVersion.objects.create(flow=flow, state="published", number=1, definition=definition)


def test_the_page_is_a_shell_whose_panels_load_lazily_with_the_range(client_for):
    html = client_for("viewer").get(PAGE + "?range=7d").content.decode()
    assert 'hx-get="/dashboards/panels/top/?range=7d" hx-trigger="load"' in html
    assert 'hx-get="/dashboards/panels/throughput/?range=7d" hx-trigger="revealed"' in html
    assert re.search(r'data-testid="range-7d"[^>]*aria-current="true"', html)
    assert "<svg" not in html  # the first paint is HTML only


def test_a_bad_range_is_a_400_naming_the_field(client_for):
    client = client_for("viewer")
    page = client.get(PAGE + "?range=1y")
    assert page.status_code == 400 and "range: choose one of 24h, 7d, 30d" in page.content.decode()
    fragment = client.get("/dashboards/panels/top/?range=bogus")
    assert fragment.status_code == 400 and "range:" in fragment.content.decode()
    assert client.get("/dashboards/panels/nope/").status_code == 404


def test_roles_every_role_sees_the_dashboard_a_user_without_one_does_not(client_for):
    assert client_for("viewer").get(PAGE).status_code == 200
    assert client_for("viewer").get("/dashboards/panels/top/").status_code == 200
    assert client_for("outsider").get(PAGE).status_code == 403
    assert client_for("outsider").get("/dashboards/panels/top/").status_code == 403
    # The replay link shows only to those who may replay.
    assert 'data-testid="dash-replay"' not in client_for("viewer").get(PAGE).content.decode()
    assert 'data-testid="dash-replay"' in client_for("operator").get(PAGE).content.decode()


def test_top_row_tiles_open_lists_with_the_same_counts(client_for):
    version = make_flow()[0]
    for n in range(4):
        make_run(version, key=f"PRJ-{n}", ago=timedelta(minutes=n + 1))
    failed = [make_failed_run(version, key=f"PRJ-9{n}", ago=timedelta(minutes=30)) for n in range(2)]
    make_run(version, "queued", key="PRJ-Q", ago=timedelta(minutes=7))
    make_run(version, key="PRJ-OLD", ago=timedelta(days=10))  # outside 24h and 7d
    exception_for(failed[0])
    exception_for(failed[1], status="resolved")
    client = client_for("viewer")

    html = panel(client, "top")
    href, count = link(html, "tile-runs")
    assert count == 7 and listed_runs(client, href) == 7
    href, count = link(html, "tile-failed")
    assert count == 2 and listed_runs(client, href) == 2 and "status=failed" in href
    assert "33.3 %" in html  # 2 failed of the 6 that ended
    href, count = link(html, "tile-exceptions")
    assert count == 1 and listed_exceptions(client, href) == 1
    href, count = link(html, "tile-backlog")
    assert count == 1 and listed_runs(client, href) == 1 and "oldest of 1 queued run" in html
    assert "1.5 s" in html  # make_run's runs take 1.5 s: the p95 of them

    wider = panel(client, "top", "30d")
    href, count = link(wider, "tile-runs")
    assert count == 8 and listed_runs(client, href) == 8


def test_held_deliveries_and_api_use_match_the_connection_page(client_for):
    version = make_flow()[0]
    run = make_failed_run(version)  # an "erp" connection with one attempt that called it
    erp = Connection.objects.get(name="erp")
    DeliveryAttempt.objects.filter(delivery__connection=erp).update(http_calls=1)
    Connection.objects.filter(pk=erp.pk).update(paused=True, rate_limit_requests=10, rate_limit_interval_seconds=60)
    for n in range(3):
        Delivery.objects.create(idempotency_key=f"held-{n}", run=run, connection=erp, object="Project", action="create")
    client = client_for("viewer")

    html = panel(client, "top")
    href, count = link(html, "held-erp")
    assert count == 3 and href == "/connections/erp/"
    assert 'data-testid="conn-held">3 deliveries waiting' in client.get(href).content.decode()

    usage = panel(client, "usage")
    href, count = link(usage, "usage-erp")
    assert count == 1 and "1 of 14400 requests" in usage
    assert 'data-testid="conn-usage">1 requests' in client.get(href).content.decode()


def test_unbilled_hours_and_late_projects_from_the_demo_flows(client_for):
    hours = published("approved-time-to-netsuite", APPROVED_TIME_TO_BILLS)
    entry = {"approved": True, "time_in_minutes": 90, "rate_in_cents": 15000, "currency": "USD"}
    make_run(hours, "waiting-delivery", key="te-1", input=entry)
    make_run(hours, "waiting-delivery", key="te-2", input={**entry, "time_in_minutes": 30})
    failed = make_run(hours, "failed", key="te-3", input={**entry, "time_in_minutes": 60})
    exception_for(failed, step="post")
    unapproved = make_run(hours, "failed", key="te-4", input={**entry, "approved": False})
    exception_for(unapproved, step="not_approved")  # not approved: not unbilled
    make_run(hours, "succeeded", key="te-5", input=entry)  # posted

    projects = published("opportunity-to-project", OPPORTUNITY_TO_PROJECT)
    make_run(projects, "waiting-approval", key="006A", ago=timedelta(days=2))
    make_run(projects, "failed", key="006B", ago=timedelta(days=3))
    make_run(projects, "waiting-approval", key="006C", ago=timedelta(minutes=5))  # won today: not late yet
    make_run(projects, "succeeded", key="006D", ago=timedelta(days=2))
    client = client_for("viewer")

    html = panel(client, "business")
    assert 'data-testid="unbilled-hours">3.0 h' in html  # 90 + 30 + 60 minutes
    assert 'data-testid="unbilled-value">450.00 USD' in html  # 3 h at 150.00
    href, count = link(html, "unbilled-waiting")
    assert count == 2 and listed_runs(client, href) == 2
    href, count = link(html, "unbilled-failed")
    assert count == 1 and listed_exceptions(client, href) == 1 and "step_id=post" in href

    assert 'data-testid="late-total">2<' in html
    for status in ("waiting-approval", "failed"):
        href, count = link(html, f"late-{status}")
        assert count == 1 and listed_runs(client, href) == 1


def test_unbilled_hours_count_entries_still_gathering_in_an_open_batch_group(client_for):
    """Time to billing gathers a group's entries across pages until it is full or an hour old:
    those approved hours are unbilled from the start, and stop counting once the group's bill
    is asked for (then its delivery carries them until NetSuite has the bill)."""
    version = published("time-to-billing", time_to_billing.DEFINITION)
    flow = version.flow
    later = timezone.now() + timedelta(hours=1)
    gathering = BatchGroup.objects.create(
        flow_version=version, step_id="by_project", group_key="p1|w1|2026-12|b", max_size=500, flush_at=later
    )
    flushed = BatchGroup.objects.create(
        flow_version=version, step_id="by_project", group_key="p2|w1|2026-12|b", max_size=500, flush_at=later,
        status="done",
    )  # fmt: skip
    for i, (group, hours) in enumerate(((gathering, 2.5), (gathering, 1.5), (flushed, 8.0))):
        GroupedRecord.objects.create(
            flow=flow, step_id="by_project", item_key=f"te-{i}", group=group, record={"total_hours": hours}
        )
    html = panel(client_for("viewer"), "business")
    assert 'data-testid="unbilled-hours">4.0 h' in html
    assert re.search(r'data-testid="unbilled-gathering"><strong>2</strong> gathering', html)


def test_charts_are_pygal_svg_whose_segments_open_their_lists(client_for):
    version = make_flow()[0]
    make_run(version, ago=timedelta(minutes=3))
    failed = make_failed_run(version, ago=timedelta(minutes=2))
    make_failed_run(version, key="PRJ-0043", ago=timedelta(minutes=1))
    exception_for(failed, step="post")
    client = client_for("viewer")

    throughput = panel(client, "throughput", "7d")
    assert 'class="pygal-chart"' in throughput and 'role="group" aria-label="Throughput.' in throughput
    assert "kozea.github.io" not in throughput  # no chart script from a CDN
    today = timezone.localdate().isoformat()
    href = f"/runs/?status=failed&since={today}&until={today}"
    assert f'xlink:href="{href.replace("&", "&amp;")}"' in throughput
    assert re.findall(r'data-testid="day-failed" data-count="(\d+)"', throughput)[-1] == "2"
    assert listed_runs(client, href) == 2

    stages = panel(client, "stages")
    href, count = link(stages, "stage")
    assert count == 1 and listed_exceptions(client, href) == 1 and "step_id=post" in href
    assert "xlink:href" in stages

    assert 'class="pygal-chart"' in panel(client, "latency", "30d")


def test_invoice_exceptions_by_region(client_for):
    version = published("invoices", INVOICE_FLOW)
    for region, n in (("EMEA", 2), ("APAC", 1)):
        for i in range(n):
            run = make_run(version, "failed", key=f"INV-{region}-{i}", input={"id": "x", "region": region})
            exception_for(run)
    exception_for(make_run(version, "failed", key="INV-none", input={"id": "y"}))
    # An event's run reads its record from the event.
    event = Event.objects.create(source="crm", type="invoice.approved", external_id="e1", payload={"region": "NA"})
    exception_for(make_run(version, "failed", key="INV-NA", event=event))
    client = client_for("viewer")
    html = panel(client, "regions")
    assert 'data-testid="region-EMEA" data-count="2"' in html
    assert 'data-testid="region-APAC" data-count="1"' in html
    assert 'data-testid="region-unknown" data-count="1"' in html
    assert 'data-testid="region-NA" data-count="1"' in html
    href, count = link(html, "invoice-flow")
    assert count == 5 and listed_exceptions(client, href) == 5
    for region, n in (("EMEA", 2), ("APAC", 1), ("unknown", 1), ("NA", 1)):
        href, count = link(html, f"region-{region}")
        assert count == n and listed_exceptions(client, href) == n, (region, href)


def test_each_region_opens_the_queue_of_exactly_its_invoice_exceptions(client_for):
    """Two invoice flows share a region; a flow that carries no invoice but has a `region`
    on its record is in neither the bar nor the list it opens."""
    for key in ("invoices", "invoices-eu"):
        version = published(key, {**INVOICE_FLOW})
        exception_for(make_run(version, "failed", key=f"{key}-1", input={"id": "x", "region": "EMEA"}))
    other = published("hours", {"steps": [{"id": "shape", "type": "map", "fields": []}]})
    exception_for(make_run(other, "failed", key="H-1", input={"region": "EMEA"}), step="shape")
    client = client_for("viewer")
    href, count = link(panel(client, "regions"), "region-EMEA")
    assert count == 2 and listed_exceptions(client, href) == 2, href


@pytest.mark.parametrize("name", ["top", "usage", "business", "throughput", "latency", "stages", "regions"])
def test_an_empty_database_says_why_on_every_panel(client_for, name):
    html = panel(client_for("viewer"), name)
    assert "<svg" not in html
    expected = {
        "top": "nothing is waiting for a worker",
        "usage": "No connection is set up yet",
        "business": "No published flow posts time bills",
        "throughput": "No runs were created since",
        "latency": "no time to show",
        "stages": "No open exception",
        "regions": "No published flow carries invoices",
    }[name]
    assert expected in html


@pytest.mark.parametrize("name", ["top", "usage", "business", "throughput", "latency", "stages", "regions"])
def test_each_panel_reads_a_bounded_number_of_queries(client_for, django_assert_max_num_queries, name):
    version = make_flow()[0]
    hours = published("approved-time-to-netsuite", APPROVED_TIME_TO_BILLS)
    invoices = published("invoices", INVOICE_FLOW)
    for n in range(15):
        make_run(version, ago=timedelta(hours=n))
        exception_for(make_failed_run(version, key=f"PRJ-{n}", ago=timedelta(days=n % 5)), step=f"s{n % 4}")
        make_run(hours, "waiting-delivery", key=f"te-{n}", input={"approved": True, "time_in_minutes": 60})
        exception_for(make_run(invoices, "failed", key=f"INV-{n}", input={"region": "NA"}))
    client = client_for("viewer")
    client.get(PAGE)  # session and permissions warm
    with django_assert_max_num_queries(12):
        panel(client, name, "30d")
    assert Run.objects.count() >= 60


def test_run_tiles_and_charts_read_the_rollups_and_match_the_live_count(client_for):
    """Closed hours come from the hourly roll-ups, the rest live: every run is timed (no
    sample), a run changed after its hour was rolled up is counted as it is now."""
    from integrations.runs.rollups import job

    version = make_flow()[0]
    runs = [make_run(version, key=f"PRJ-{n}", ago=timedelta(hours=3 * n + 1)) for n in range(10)]
    job.roll_up()
    Run.objects.filter(pk=runs[-1].pk).update(status="failed")  # 28 h old: rolled up, then changed
    client = client_for("viewer")
    html = panel(client, "top", "7d")
    assert "p95 run time (to 2 significant digits), 10 timed runs" in html and "1.5 s" in html
    href, count = link(html, "tile-runs")
    assert count == 10 and listed_runs(client, href) == 10
    href, failed = link(html, "tile-failed")
    assert failed == 1 and listed_runs(client, href) == 1
    assert "1.5 s" in panel(client, "latency", "7d")
