"""The connection page's Test report: each named check the connector made (token,
permissions, API version...) in words an admin can act on; the deprecated Salesforce grant
marked in the form. Browser: the report read wide and at 390 px, axe-core clean."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.connections.demo import demo_values
from integrations.connections.services import create_connection
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.kantata.seed import seed as seed_kantata
from integrations.sandboxes.salesforce.seed import seed as seed_salesforce
from tests.connectors.contract import use_sandboxes

pytestmark = pytest.mark.django_db(transaction=True)
PHONE, WIDE = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


@pytest.fixture
def sandboxes(live_server, settings):
    use_sandboxes(live_server, settings)
    seed_salesforce("test")
    seed_kantata("test")


def run_test(client, name: str) -> str:
    return client.post(reverse("connections:test", args=[name]), HTTP_HX_REQUEST="true").content.decode()


def test_the_report_lists_each_named_check(sandboxes, client_for):
    create_connection("system:test", name="salesforce", kind="salesforce", **demo_values("salesforce"))
    html = run_test(client_for("admin"), "salesforce")
    assert 'data-testid="conn-test-checks"' in html and html.count('data-testid="conn-test-check"') == 5
    for name in ("Token", "API version", "API access", "Opportunity access", "Account access"):
        assert f"<strong>{name}</strong>" in html
    assert 'data-ok="false"' not in html.split('data-testid="conn-test-checks"')[1]


def test_the_report_names_what_to_fix(sandboxes, client_for):
    creds = sandbox_credentials("salesforce")
    values = demo_values("salesforce")
    values["config"].update(grant_type="password", username=creds["username"], api_version="v31.0")
    values["credentials"]["password"] = creds["password"]
    create_connection("system:test", name="sf-old", kind="salesforce", **values)
    html = run_test(client_for("admin"), "sf-old")
    assert 'data-testid="conn-test-error"' in html and "does not serve API v31.0" in html
    assert "retiring the username-password flow" in html and "needs attention" in html
    kantata = demo_values("kantata")
    kantata["credentials"]["access_token"] = "revoked"
    create_connection("system:test", name="psa", kind="kantata", **kantata)
    html = run_test(client_for("admin"), "psa")
    assert "<strong>Token</strong>" in html and "authorization-code grant" in html


def test_the_form_marks_the_deprecated_grant(client_for):
    html = client_for("admin").get(reverse("connections:new") + "?kind=salesforce").content.decode()
    assert "password (deprecated)" in html and "client credentials</option>" in html


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["desktop", "phone"])
def test_the_report_reads_well_and_is_accessible(sandboxes, page, login, live_server, viewport):
    from axe_playwright_python.sync_playwright import Axe  # lazy: heavy optional dependency
    from playwright.sync_api import expect  # lazy: heavy optional dependency

    creds = sandbox_credentials("salesforce")
    values = demo_values("salesforce")
    values["config"].update(grant_type="password", username=creds["username"])
    values["credentials"]["password"] = creds["password"]
    create_connection("system:test", name="salesforce", kind="salesforce", **values)
    login(page, "admin")
    page.set_viewport_size(viewport)
    page.goto("/connections/salesforce/")
    page.click("[data-testid=conn-test]")
    checks = page.locator("[data-testid=conn-test-check]")
    expect(checks.first).to_contain_text("Token")
    assert checks.count() == 6
    expect(page.locator("[data-testid=conn-test-check][data-ok=false]")).to_contain_text("Grant type")
    page.locator("[data-testid=conn-test-result]").screenshot(path=f"/tmp/conn-test-{viewport['width']}.png")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{width}px wide at {viewport['width']}px"
    violations = [v for v in Axe().run(page).response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not violations, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
