"""The analyst maps a Salesforce opportunity onto the canonical project in the browser: steps
added through the editor, nine fields mapped with every row kind (one accepted from "Suggest
mappings"), a template's preview following the typing, a malformed template and a missing
required field named at their rows; then an approval and a route configured in their panels.
axe-core finds no serious or critical violation on the panels, wide or at 390 px, and the
mapping editor is usable by keyboard."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from integrations.crosswalk.services import link
from integrations.events.models import Event
from integrations.flows import services
from integrations.flows.services import draft_of
from tests.ui.panel_fixtures import OPPORTUNITY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
BLOCKING = ("serious", "critical")
SHOTS = "/tmp/panels"
DELIVERIES = [
    {"id": "erp_emea", "type": "deliver", "connection": "netsuite", "object": "job", "action": "upsert",
     "key": "opp-{{ input.Id }}", "external_id_field": "externalId"},
    {"id": "erp_na", "type": "deliver", "connection": "netsuite", "object": "job", "action": "upsert",
     "key": "opp-{{ input.Id }}", "external_id_field": "externalId"},
]  # fmt: skip


@pytest.fixture
def flow(personas):
    flow = services.create_flow(personas["analyst"], key="opp", name="Opportunity → project")
    trigger = {"type": "event", "connection": "salesforce", "event": "opportunity.won"}
    services.save_draft(flow, personas["analyst"], {"trigger": trigger, "steps": DELIVERIES}, strict=False)
    Event.objects.create(source="salesforce", type="opportunity.won", external_id="e1", payload=OPPORTUNITY)
    link("client", "salesforce", OPPORTUNITY["AccountId"], "client-acme")
    return flow


def add_step(page, at: int, kind: str, step_id: str) -> None:
    page.goto("/flows/opp/")
    page.locator(f"[data-testid=add-step-after-{at}] summary").click()
    page.select_option(f"[data-testid=add-step-type-{at}]", kind)
    page.fill(f"[data-testid=add-step-id-{at}]", step_id)
    page.click(f"[data-testid=add-step-submit-{at}]")


def htmx_settled(page) -> None:
    """Wait until htmx has no request in flight and has settled what it swapped in: it binds a
    new element's hx- attributes only then, so a change made before is never sent."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def open_row(page, to: str, kind: str):
    page.locator(f"div[data-testid=map-row-{to}] [data-testid=map-row-edit]").click()
    form = page.locator(f"form[data-testid=map-row-{to}]")
    expect(form).to_be_visible()
    htmx_settled(page)
    if form.get_attribute("data-kind") != kind:
        form.locator("[data-testid=map-kind]").select_option(kind)
        expect(page.locator(f"form[data-testid=map-row-{to}][data-kind={kind}]")).to_be_visible()
    return page.locator(f"form[data-testid=map-row-{to}]")


def save_row(page, to: str) -> None:
    page.locator(f"form[data-testid=map-row-{to}] [data-testid=map-row-save]").click()
    expect(page.locator(f"div[data-testid=map-row-{to}] [data-testid=map-row-saved]")).to_be_visible()


def serious(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


def map_fields(page) -> None:
    page.select_option("[data-testid=map-target]", "project@1")
    page.click("[data-testid=map-target-save]")
    expect(page.locator("[data-testid=required-unmapped]")).to_have_text("Required unmapped: 6")
    page.screenshot(path=f"{SHOTS}/map-empty-1280.png", full_page=True)
    # Suggest mappings: accept the start date, dismiss the currency
    page.click("[data-testid=map-suggest]")
    suggestion = page.locator("[data-testid=suggestion-start_date]")
    expect(suggestion.locator("[data-testid=suggestion-why]")).to_contain_text("known synonym: CloseDate ↔ start_date")
    page.screenshot(path=f"{SHOTS}/map-suggestions-1280.png", full_page=True)
    suggestion.locator("[data-testid=suggestion-accept]").click()
    expect(page.locator("[data-testid=suggestion-start_date]")).to_have_count(0)
    page.locator("[data-testid=suggestion-currency] [data-testid=suggestion-dismiss]").click()
    expect(page.locator("[data-testid=suggestion-currency]")).to_have_count(0)
    expect(page.locator("[data-testid=required-unmapped]")).to_have_text("Required unmapped: 5")
    # Field rows
    for to, source in (("name", "$.Name"), ("currency", "$.CurrencyIsoCode")):
        open_row(page, to, "field").locator("[data-testid=map-from]").fill(source)
        save_row(page, to)
    row = open_row(page, "contract_value", "field")
    row.locator("[data-testid=map-from]").fill("$.Amount")
    row.locator("[data-testid=map-type]").select_option("money")
    expect(page.locator("[data-testid=map-preview-contract_value]")).to_contain_text("rounded half-up")
    save_row(page, "contract_value")
    # Constants
    for to, value in (("status", "won"), ("billing_type", "fixed_fee")):
        open_row(page, to, "constant").locator("[data-testid=map-constant]").fill(value)
        save_row(page, to)
    # Lookups: the crosswalk, and a value map written as lines
    row = open_row(page, "client_id", "lookup")
    row.locator("[data-testid=map-from]").fill("$.AccountId")
    row.locator("[data-testid=map-lookup-crosswalk]").check()
    row.locator("[data-testid=map-xw-object]").fill("client")
    row.locator("[data-testid=map-xw-system]").fill("salesforce")
    save_row(page, "client_id")
    expect(page.locator("[data-testid=map-preview-client_id]")).to_contain_text("client-acme")
    row = open_row(page, "region", "lookup")
    row.locator("[data-testid=map-from]").fill("$.Region__c")
    row.locator("[data-testid=map-value-map]").fill("regions")
    row.locator("[data-testid=map-pairs]").fill("Europe = EMEA\nNorth America = NA")
    save_row(page, "region")
    expect(page.locator("[data-testid=map-preview-region]")).to_contain_text("EMEA")
    # A template: the preview follows the typing; a malformed one shows the engine's message at the row
    row = open_row(page, "code", "template")
    template = row.locator("[data-testid=map-template]")
    template.press_sequentially("{{ record.Name }}", delay=20)
    expect(page.locator("[data-testid=map-preview-code]")).to_contain_text("Acme rollout")
    for _ in range(3):
        template.press("Backspace")  # " }}"
    template.press_sequentially(" | slug | upper }}", delay=20)
    expect(page.locator("[data-testid=map-preview-code]")).to_contain_text("ACME-ROLLOUT")
    template.fill("{{ record.Name | upper ")
    expect(page.locator("[data-testid=map-preview-code]")).to_contain_text("template does not compile")
    page.screenshot(path=f"{SHOTS}/map-template-error-1280.png", full_page=True)
    template.fill("{{ record.Name | slug | upper }}")
    expect(page.locator("[data-testid=map-preview-code]")).to_contain_text("ACME-ROLLOUT")
    save_row(page, "code")


@pytest.mark.parametrize("viewport", [WIDE])
def test_analyst_maps_routes_and_adds_an_approval_in_the_browser(page, login, live_server, flow, viewport):
    page.set_viewport_size(viewport)
    login(page, "analyst")
    add_step(page, 0, "map", "project")
    expect(page.locator("[data-testid=map-panel]")).to_be_visible()
    map_fields(page)
    expect(page.locator("[data-testid=required-unmapped]")).to_have_text("Required unmapped: 0")
    page.click("[data-testid=map-unmapped-toggle]")
    expect(page.locator("div[data-testid=map-row-name]")).to_have_count(0)
    expect(page.locator("div[data-testid=map-row-practice]")).to_be_visible()
    page.click("[data-testid=map-unmapped-toggle]")
    page.screenshot(path=f"{SHOTS}/map-mapped-1280.png", full_page=True)
    fields = {f["to"]: f for f in draft_of(flow).definition["steps"][0]["fields"]}
    assert len(fields) == 9 and fields["start_date"] == {"to": "start_date", "from": "$.CloseDate", "required": True}
    assert fields["region"]["value_map"] == "regions" and fields["client_id"]["crosswalk"]["object"] == "client"
    assert fields["code"]["template"] == "{{ record.Name | slug | upper }}" and fields["status"]["constant"] == "won"
    # An approval after the map step
    add_step(page, 1, "approve", "big_deal")
    expect(page.locator("[data-testid=approve-panel]")).to_be_visible()
    page.fill("[data-testid=approve-sla]", "24")
    page.select_option("[data-testid=approve-on-expiry]", "auto-reject")
    page.fill("[data-testid=approve-summary]", "Set up {{ record.name }} for {{ record.contract_value }}")
    expect(page.locator("[data-testid=approve-card-title]")).to_have_text("Set up Acme rollout for 300000.0")
    page.click("[data-testid=approve-save]")
    expect(page.locator("[data-testid=approve-saved]")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/approve-1280.png", full_page=True)
    # A route between the two deliveries
    add_step(page, 2, "route", "by_region")
    panel = page.locator("[data-testid=route-panel]")
    expect(panel).to_be_visible()
    page.fill("[data-testid=route-branch-0] [data-testid=route-branch-name]", "emea")
    page.fill("[data-testid=route-branch-0] [data-testid=route-field]", "record.region")
    page.fill("[data-testid=route-branch-0] [data-testid=route-value]", "EMEA")
    page.check("[data-testid=route-branch-0] [data-testid=route-to-erp_emea]")
    page.check("[data-testid=route-otherwise-erp_na]")
    page.click("[data-testid=route-test]")
    expect(page.locator("[data-testid=route-hit-emea]")).to_be_visible()
    page.click("[data-testid=route-add-branch]")
    expect(page.locator("[data-testid=route-branch-1]")).to_be_visible()
    page.locator("[data-testid=route-branch-1] [data-testid=route-remove]").click()
    # htmx drops a second request from a form while one is in flight: wait for the swap.
    expect(page.locator("[data-testid=route-branch-1]")).to_have_count(0)
    page.click("[data-testid=route-save]")
    expect(page.locator("[data-testid=route-saved]")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/route-1280.png", full_page=True)
    steps = draft_of(flow).definition["steps"]
    assert [s["type"] for s in steps] == ["map", "approve", "route", "deliver", "deliver"]
    assert steps[2]["rules"] == [{"name": "emea", "when": "record.region == 'EMEA'", "to": "erp_emea"}]
    assert steps[1]["sla_hours"] == 24 and steps[1]["on_expiry"] == "auto-reject"
    assert services.validate(draft_of(flow).definition) == []


def test_a_missing_required_mapping_is_named_at_its_row(page, login, live_server, flow):
    login(page, "analyst")
    add_step(page, 0, "map", "project")
    page.select_option("[data-testid=map-target]", "project@1")
    page.click("[data-testid=map-target-save]")
    expect(page.locator("[data-testid=required-unmapped-list]")).to_contain_text("client_id")
    row = open_row(page, "client_id", "field")
    row.locator("[data-testid=map-from]").fill("$.NoSuchField")
    row.locator("[data-testid=map-required]").check()
    expect(page.locator("[data-testid=map-preview-client_id]")).to_contain_text("client_id is required but missing")
    save_row(page, "client_id")
    expect(page.locator("[data-testid=map-preview-client_id]")).to_contain_text("client_id is required but missing")


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "390"])
def test_panels_pass_axe_fit_the_screen_and_work_by_keyboard(page, login, live_server, flow, personas, viewport):
    from tests.ui.panel_fixtures import DEFINITION

    services.save_draft(flow, personas["analyst"], DEFINITION, strict=False)
    page.set_viewport_size(viewport)
    login(page, "analyst")
    found = {}
    for index, name in ((0, "map"), (1, "approve"), (2, "route")):
        page.goto(f"/flows/opp/?step={index}")
        expect(page.locator(f"[data-testid={name}-panel]")).to_be_visible()
        if name == "map":
            page.locator("div[data-testid=map-row-code] [data-testid=map-row-edit]").click()
            expect(page.locator("form[data-testid=map-row-code]")).to_be_visible()
        found[name] = serious(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width}px wide at {viewport['width']}px"
        page.screenshot(path=f"{SHOTS}/{name}-editor-{viewport['width']}.png", full_page=True)
    assert not any(found.values()), found
    # Keyboard: Tab reaches "Suggest mappings", Enter runs it, Tab reaches an Accept button
    page.goto("/flows/opp/steps/0/")
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "map-suggest":
            break
    else:
        pytest.fail("Suggest mappings is not reachable by Tab")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=map-suggestions]")).to_be_visible()
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "suggestion-accept":
            break
    else:
        pytest.fail("Accept is not reachable by Tab")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=map-counts]")).to_contain_text("2 of 17 fields mapped")
