"""The analyst's goal in a real browser: create a flow with an event trigger on the Salesforce
connection, build its steps with forms (no JSON), publish with a note (the flow delivers to an
ERP, so a second person approves), publish a second version, compare the two, restore the first
as the draft. Then, with PostgreSQL, Redis and a real worker, an event posted to
/api/v1/events/ runs the new live version and the ERP receives the record.

axe-core finds no serious or critical violation on the list, editor and versions pages."""

import json
import time

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from integrations.connections.models import Connection
from integrations.crosswalk.services import link
from integrations.events.models import Event
from integrations.flows.models import Flow, PublishRequest
from integrations.runs.models import Run
from tests.browser.test_flow_panels_map import map_fields
from tests.reliability.conftest import worker_env
from tests.reliability.harness import Simulator, Worker, all_terminal, drive, make_connection
from tests.ui.panel_fixtures import OPPORTUNITY

BLOCKING = {"serious", "critical"}


def axe_blocking(page) -> list:
    found = [v for v in Axe().run(page).response["violations"] if v["impact"] in BLOCKING]
    return [(v["id"], [n["html"][:200] for n in v["nodes"][:3]]) for v in found]


@pytest.fixture
def simulator(settings):
    sim = Simulator()
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = [sim.url]
    yield sim
    sim.stop()


@pytest.fixture
def connections(simulator):
    Connection.objects.create(name="salesforce", kind="salesforce", base_url="https://example.my.salesforce.com")
    # A REST API in front of the books: marked as an ERP, so publishing needs a second person.
    return make_connection(simulator, "erp", config={"erp": True})


def save_panel(page) -> None:
    page.click("[data-testid=step-save]")
    expect(page.locator("[data-testid=panel-saved]")).to_be_visible()


def add_step(page, at: int, kind: str, step_id: str) -> None:
    # A save before this re-renders the step list through htmx; opening the form in the list
    # it replaces would lose it, so wait for that swap first.
    page.wait_for_load_state("networkidle")
    page.click(f"[data-testid=add-step-after-{at}] summary")
    expect(page.locator(f"[data-testid=add-step-type-{at}]")).to_be_visible()
    page.select_option(f"[data-testid=add-step-type-{at}]", kind)
    page.fill(f"[data-testid=add-step-id-{at}]", step_id)
    page.click(f"[data-testid=add-step-submit-{at}]")
    expect(page.locator(f"[data-testid=step-panel-{at}]")).to_be_visible()


def approve_as(browser, live_server, username: str, key: str) -> None:
    """The second person, in a browser session of their own."""
    context = browser.new_context(base_url=live_server.url)
    other = context.new_page()
    other.goto("/login/")
    other.fill("input[name=username]", username)
    other.fill("input[name=password]", "pw-" + username)
    other.click("[data-testid=login-submit]")
    other.goto(f"/flows/{key}/publish/")
    other.fill("[data-testid=publish-comment]", "looks right")
    other.click("[data-testid=publish-approve]")
    expect(other.locator("[data-testid=version-table]")).to_be_visible()
    context.close()


def walk_the_goal(page, browser, live_server) -> Flow:
    page.goto("/flows/")
    expect(page.locator("[data-testid=flows-empty]")).to_be_visible()
    assert axe_blocking(page) == []
    page.click("[data-testid=flow-new]")
    page.fill("#id_key", "won-deals")
    page.fill("#id_name", "Won deals to the ERP")
    page.click("[data-testid=flow-create]")
    expect(page.locator("[data-testid=draft-banner]")).to_contain_text("Editing draft v1 — nothing is live yet")

    # Trigger: a Salesforce event. A wrong cron first shows the engine's message at the field.
    page.click("[data-testid=step-trigger]")
    page.check("[data-testid=trigger-mode-schedule]")
    page.fill("[data-testid=trigger-cron]", "61 * * * *")
    page.click("[data-testid=trigger-save]")
    expect(page.locator("[data-testid=trigger-error-cron]")).to_contain_text("minute '61' is out of range 0-59")
    page.check("[data-testid=trigger-mode-event]")
    page.select_option("[data-testid=trigger-connection]", "salesforce")
    page.fill("[data-testid=trigger-event]", "opportunity.won")
    page.fill("[data-testid=trigger-cron]", "")
    page.click("[data-testid=trigger-save]")
    expect(page.locator("[data-testid=step-badge-trigger]")).to_have_text("ok")

    # Steps, by form: validate the input, then deliver it to the ERP.
    add_step(page, 0, "validate", "check")
    page.fill("[data-testid=rules-0-when]", "record.Amount is not defined")
    page.fill("[data-testid=rules-0-message]", "the opportunity has no amount")
    page.fill("[data-testid=rules-0-field]", "Amount")
    save_panel(page)
    add_step(page, 1, "deliver", "post")
    page.select_option("[data-testid=field-connection]", "erp")
    page.fill("[data-testid=field-object]", "postings")
    page.select_option("[data-testid=field-action]", "create")
    page.fill("[data-testid=field-key]", "{{ oops")
    save_panel(page)
    expect(page.locator("[data-testid=error-key]")).to_contain_text("template")
    expect(page.locator("[data-testid=step-badge-1]")).to_contain_text("1 to fix")
    page.fill("[data-testid=field-key]", "opp-{{ input.Id }}")
    page.fill("[data-testid=field-external_id_field]", "external_ref")
    page.fill("[data-testid=field-external_id]", "{{ input.Id }}")
    save_panel(page)
    expect(page.locator("[data-testid=step-badge-1]")).to_have_text("ok")
    assert axe_blocking(page) == []

    # Publish v1: a note is required; the ERP makes it a request the author cannot approve.
    page.click("[data-testid=flow-publish-open]")
    page.click("[data-testid=publish-submit]")
    expect(page.locator("[data-testid=error-notes]")).to_contain_text("A publish note is required")
    expect(page.locator("[data-testid=four-eyes-note]")).to_contain_text("erp")
    page.fill("[data-testid=publish-notes]", "first version: won deals go to the ERP")
    page.click("[data-testid=publish-submit]")
    expect(page.locator("[data-testid=publish-own-request]")).to_be_visible()
    approve_as(browser, live_server, "admin", "won-deals")

    # v2: the amount goes along under the ERP's name for it.
    page.goto("/flows/won-deals/")
    expect(page.locator("[data-testid=draft-banner]")).to_contain_text("Editing draft v2 — live is v1")
    page.click("[data-testid=step-open-0]")
    page.fill("[data-testid=rules-1-when]", "record.Amount < 0")
    page.fill("[data-testid=rules-1-message]", "negative amount")
    save_panel(page)
    page.goto("/flows/won-deals/publish/")
    expect(page.locator("[data-testid=impact-none], [data-testid=impact-summary]")).to_be_visible()
    page.fill("[data-testid=publish-notes]", "refuse negative amounts")
    page.click("[data-testid=publish-submit]")
    approve_as(browser, live_server, "admin", "won-deals")

    # Versions: compare v1 with v2, then restore v1 as the draft.
    page.goto("/flows/won-deals/versions/")
    expect(page.locator("[data-testid=version-live]")).to_be_visible()
    assert axe_blocking(page) == []
    page.select_option("[data-testid=compare-a]", "1")
    page.select_option("[data-testid=compare-b]", "2")
    page.click("[data-testid=compare-go]")
    expect(page.locator("[data-testid=diff-change-check]")).to_have_text("changed")
    expect(page.locator("[data-testid=diff-step-check]")).to_contain_text("negative amount")
    page.goto("/flows/won-deals/versions/")
    page.click("[data-testid=version-restore-1]")
    expect(page.locator("[data-testid=draft-banner]")).to_contain_text("Editing draft v3 — live is v2")
    flow = Flow.objects.get(key="won-deals")
    assert flow.live_version.number == 2 and flow.live_version.published_by.username == "admin"
    assert PublishRequest.objects.filter(flow=flow, state="approved").count() == 2
    assert len(flow.draft.definition["steps"][0]["rules"]) == 1  # v1's single rule is the draft again
    return flow


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_analyst_builds_publishes_compares_and_restores_a_flow(page, browser, login, live_server, connections):
    login(page, "analyst")
    walk_the_goal(page, browser, live_server)


@pytest.mark.browser
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_then_an_event_runs_the_new_version_through_a_real_worker(
    page, browser, login, live_server, connections, simulator, settings, personas
):
    login(page, "analyst")
    flow = walk_the_goal(page, browser, live_server)
    import redis as redis_client  # lazy: only this test needs the broker client

    redis_client.Redis.from_url(settings.REDIS_URL).flushdb()
    worker = Worker(redis_url=settings.REDIS_URL, env=worker_env(simulator)).start()
    try:
        token = Token.objects.get_or_create(user=personas["operator"])[0].key
        response = httpx.post(
            live_server.url + "/api/v1/events/",
            headers={"Authorization": f"Token {token}"},
            json={
                "connection": "salesforce",
                "type": "opportunity.won",
                "external_id": "evt-1",
                "payload": {"Id": "006A", "Amount": 1200},
            },
        )
        assert response.status_code == 202, response.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not Run.objects.filter(status="succeeded").exists():
            drive(all_terminal, timeout=5)
            time.sleep(0.5)
        run = Run.objects.select_related("flow_version").get(flow_version__flow=flow)
        assert (run.status, run.flow_version.number) == ("succeeded", 2)
        assert [p["external_ref"] for p in simulator.postings()] == ["006A"]
    finally:
        worker.kill()


@pytest.fixture
def opportunity_sample(connections):
    """The Salesforce event the mapping is built on, and the crosswalk link its account needs."""
    Event.objects.create(source="salesforce", type="opportunity.won", external_id="e1", payload=OPPORTUNITY)
    link("client", "salesforce", OPPORTUNITY["AccountId"], "client-acme")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_goal_with_mapping_routing_approval_test_run_and_pinned_sample(
    page, browser, login, live_server, opportunity_sample
):
    """The other half of the goal, with the mapping, route and approval panels and the test
    panel: map the opportunity onto the canonical project (nine fields, every row kind, one
    suggestion accepted), add an approval and a route, test-run on the sandbox record, pin it
    with its output, see the impact preview, publish with a second person's approval."""
    page.set_default_timeout(30_000)
    login(page, "analyst")
    page.goto("/flows/new/")
    page.fill("#id_key", "opp")
    page.fill("#id_name", "Opportunity → project")
    page.click("[data-testid=flow-create]")
    page.click("[data-testid=step-trigger]")
    page.check("[data-testid=trigger-mode-event]")
    page.select_option("[data-testid=trigger-connection]", "salesforce")
    page.fill("[data-testid=trigger-event]", "opportunity.won")
    page.click("[data-testid=trigger-save]")
    expect(page.locator("[data-testid=step-badge-trigger]")).to_have_text("ok")
    add_step(page, 0, "deliver", "post")
    page.select_option("[data-testid=field-connection]", "erp")
    page.fill("[data-testid=field-object]", "postings")
    page.select_option("[data-testid=field-action]", "create")
    page.fill("[data-testid=field-key]", "opp-{{ input.Id }}")
    page.fill("[data-testid=field-external_id_field]", "external_ref")
    page.fill("[data-testid=field-external_id]", "{{ input.Id }}")
    save_panel(page)

    page.goto("/flows/opp/")
    page.click("[data-testid=add-step-after-0] summary")
    page.select_option("[data-testid=add-step-type-0]", "map")
    page.fill("[data-testid=add-step-id-0]", "project")
    page.click("[data-testid=add-step-submit-0]")
    expect(page.locator("[data-testid=map-panel]")).to_be_visible()
    map_fields(page)  # the mapping editor's own walk (tests/browser/test_flow_panels_map.py)
    expect(page.locator("[data-testid=required-unmapped]")).to_have_text("Required unmapped: 0")

    page.goto("/flows/opp/")
    page.click("[data-testid=add-step-after-1] summary")
    page.select_option("[data-testid=add-step-type-1]", "approve")
    page.fill("[data-testid=add-step-id-1]", "big_deal")
    page.click("[data-testid=add-step-submit-1]")
    expect(page.locator("[data-testid=approve-panel]")).to_be_visible()
    page.fill("[data-testid=approve-sla]", "24")
    page.fill("[data-testid=approve-summary]", "Set up {{ record.name }}")
    page.click("[data-testid=approve-save]")
    expect(page.locator("[data-testid=approve-saved]")).to_be_visible()

    page.goto("/flows/opp/")
    page.click("[data-testid=add-step-after-2] summary")
    page.select_option("[data-testid=add-step-type-2]", "route")
    page.fill("[data-testid=add-step-id-2]", "by_region")
    page.click("[data-testid=add-step-submit-2]")
    expect(page.locator("[data-testid=route-panel]")).to_be_visible()
    page.fill("[data-testid=route-branch-0] [data-testid=route-branch-name]", "emea")
    page.fill("[data-testid=route-branch-0] [data-testid=route-field]", "record.region")
    page.fill("[data-testid=route-branch-0] [data-testid=route-value]", "EMEA")
    page.check("[data-testid=route-branch-0] [data-testid=route-to-post]")
    page.click("[data-testid=route-test]")
    expect(page.locator("[data-testid=route-hit-emea]")).to_be_visible()
    page.click("[data-testid=route-save]")
    expect(page.locator("[data-testid=route-saved]")).to_be_visible()
    page.goto("/flows/opp/")
    for i in range(4):
        expect(page.locator(f"[data-testid=step-badge-{i}]")).to_have_text("ok")

    # Test-run on the sandbox record, pin it with its output as a regression sample.
    page.click("[data-testid=tab-test]")
    page.fill("[data-testid=test-record]", json.dumps(OPPORTUNITY))
    page.click("[data-testid=test-run]")
    expect(page.locator("[data-testid=test-status]")).to_have_text("completed")
    page.fill("[data-testid=pin-name]", "Acme rollout")
    page.check("[data-testid=pin-expected]")
    page.click("[data-testid=pin-save]")
    expect(page.locator("[data-testid=sample-acme-rollout] [data-testid=sample-regression]")).to_be_visible()

    page.goto("/flows/opp/publish/")
    expect(page.locator("[data-testid=impact-problem]")).to_contain_text("Nothing is live yet")
    expect(page.locator("[data-testid=regression-failures]")).to_have_count(0)
    page.fill("[data-testid=publish-notes]", "won opportunities become projects in the ERP")
    page.click("[data-testid=publish-submit]")
    approve_as(browser, live_server, "admin", "opp")
    flow = Flow.objects.get(key="opp")
    assert flow.live_version.number == 1
    steps = flow.live_version.definition["steps"]
    assert [s["type"] for s in steps] == ["map", "approve", "route", "deliver"]
    assert len(steps[0]["fields"]) == 9
