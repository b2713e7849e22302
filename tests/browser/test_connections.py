"""In a real browser: create a connection to a sandbox, test it and see it Healthy (the
header line too), try a window that ends before it starts and see the error at the field,
then add a maintenance window covering now and see it In maintenance."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from integrations.sandboxes.credentials import sandbox_credentials

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_test_and_schedule_maintenance(page, login, live_server, settings):
    settings.SWITCHBOARD_SANDBOX_ORIGIN = live_server.url
    settings.SWITCHBOARD_SANDBOXES_ENABLED = True
    creds = sandbox_credentials("dynamics")
    login(page, "admin")

    page.goto("/connections/")
    page.click("[data-testid=conn-new]")
    page.click("[data-testid=conn-kind-dynamics]")
    page.fill("input[name=name]", "dataverse")
    page.fill("input[name=base_url]", f"{live_server.url}/sandbox/dynamics")
    page.fill("input[name=config__tenant_id]", "switchboard-sandbox")
    page.fill("input[name=config__client_id]", creds["client_id"])
    page.fill(
        "input[name=config__token_url]", f"{live_server.url}/sandbox/dynamics/switchboard-sandbox/oauth2/v2.0/token"
    )
    page.fill("input[name=secret__client_secret]", creds["client_secret"])
    page.click("[data-testid=conn-save]")

    page.wait_for_url(f"{live_server.url}/connections/dataverse/")
    expect(page.locator("[data-testid=conn-status]")).to_have_text("Unverified")
    expect(page.locator("[data-testid=conn-credentials]")).to_contain_text("••••")
    expect(page.locator("body")).not_to_contain_text(creds["client_secret"])

    expect(page.locator("#conn-head-lead")).to_contain_text("never tested")
    page.click("[data-testid=conn-test]")
    expect(page.locator("[data-testid=conn-test-result]")).to_contain_text("OK")
    expect(page.locator("[data-testid=conn-status]")).to_have_text("Healthy")
    expect(page.locator("#conn-head-lead")).not_to_contain_text("never tested")  # header refreshed too

    now = timezone.now()
    # A window that ends before it starts: the error appears at the field, nothing is added.
    page.select_option("[data-testid=window-kind] select", "one_off")
    page.fill("[data-testid=window-starts_at] input", (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("[data-testid=window-ends_at] input", (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.click("[data-testid=conn-window-add]")
    expect(page.locator("[data-testid=window-error-ends_at]")).to_be_visible()
    expect(page.locator("[data-testid=window-errors]")).to_contain_text("not added")
    expect(page.locator("[data-testid=conn-window]")).to_have_count(0)

    page.select_option("[data-testid=window-kind] select", "one_off")
    page.fill("[data-testid=window-starts_at] input", (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("[data-testid=window-ends_at] input", (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.select_option("[data-testid=window-timezone] select", "UTC")
    page.fill("[data-testid=window-note] input", "Dataverse upgrade")
    page.click("[data-testid=conn-window-add]")
    expect(page.locator("[data-testid=conn-window]")).to_contain_text("Dataverse upgrade")
    expect(page.locator("[data-testid=conn-status]")).to_have_text("In maintenance")

    page.goto("/connections/")
    expect(page.locator("[data-testid=connection-row-dataverse] [data-testid=conn-status]")).to_have_text(
        "In maintenance"
    )
