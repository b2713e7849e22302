"""The audit log in a real browser: from the list to an entry's before/after (the secret
shown only as changed), the CSV export downloaded with the list's filters, and axe-core
finding no serious or critical violation on the list, an entry, the empty state and a
long list, wide and at 390 px, none of them wider than the screen.

SWITCHBOARD_SHOTS=/tmp/shots also saves screenshots of each page (p-audit-*.png)."""

import csv
import io
import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from integrations.audit import services as audit
from integrations.audit.models import AuditEntry
from integrations.connections.models import Connection
from integrations.connections.services import create_connection, update_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
BLOCKING = {"serious", "critical"}
SECRET = "api-key-never-shown-0001"


def seed(admin):
    conn = create_connection(admin, name="erp", kind="generic_rest", base_url="https://erp.example.com")
    update_connection(
        admin,
        Connection.objects.get(pk=conn.pk),
        base_url="https://erp-eu.example.com/" + "very-long-path-segment-" * 4,
        config={"auth_type": "api_key", "objects": {"postings": {"path": "/v2/postings", "id_field": "id"}}},
        credentials={"api_key": SECRET},
    )
    for n in range(60):  # a long list: more than one page
        audit.record(
            "system:sweeper", "run.requeue", object_type="runs.run", object_id=str(n), message=f"lease expired {n}"
        )
    return AuditEntry.objects.get(action="connection.updated")


def shot(page, name):
    folder = os.environ.get("SWITCHBOARD_SHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=f"{folder}/p-audit-{name}.png", full_page=True)
        page.screenshot(path=f"{folder}/p-audit-{name}-top.png")  # what the screen shows first
        width = page.viewport_size["width"]
        below = {"x": 0, "y": 500, "width": width, "height": 800}
        page.screenshot(path=f"{folder}/p-audit-{name}-below.png", full_page=True, clip=below)


def serious(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


def test_from_the_list_to_an_entry_and_a_filtered_export(page, login, personas):
    entry = seed(personas["admin"])
    login(page, "admin")
    page.goto("/audit/?action=connection")
    expect(page.locator("[data-testid=audit-row]")).to_have_count(2)
    page.locator(f"a[href='/audit/{entry.pk}/']").click()
    expect(page.locator("h1")).to_have_text("connection.updated")
    credentials = page.locator("[data-testid=audit-change][data-field=credentials]")
    expect(credentials.locator("[data-testid=audit-masked]")).to_be_visible()
    assert SECRET not in page.content()
    expect(page.locator("[data-testid=audit-line-diff]")).to_contain_text("/v2/postings")

    page.goto("/audit/?action=connection")
    with page.expect_download() as download:
        page.locator("[data-testid=audit-export-csv]").click()
    with open(download.value.path()) as exported:
        rows = list(csv.DictReader(io.StringIO(exported.read())))
    assert sorted(r["action"] for r in rows) == ["connection.created", "connection.updated"]
    assert AuditEntry.objects.filter(action="audit.exported", actor_label="admin").count() == 1


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["wide", "phone"])
def test_audit_pages_are_accessible_and_fit_the_screen(page, login, personas, viewport):
    login(page, "admin")
    page.set_viewport_size(viewport)
    tag = "phone" if viewport is PHONE else "wide"
    found = {}

    def check(path, name):
        page.goto(path)
        shot(page, f"{name}-{tag}")
        if problems := serious(page):
            found[path] = problems
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{path} is {width}px wide at {viewport['width']}px"

    check("/audit/?actor=nobody", "empty")
    entry = seed(personas["admin"])
    check("/audit/", "list")
    check(f"/audit/{entry.pk}/", "entry")
    bare = AuditEntry.objects.filter(action="run.requeue").first()
    check(f"/audit/{bare.pk}/", "entry-no-changes")
    assert not found, found
