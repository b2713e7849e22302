"""The reconciliation pages in Chromium: the jobs with their latest counts, a count opening
the rows behind it, a row resolved by keyboard with a reason, an empty drill-down; axe-core
finds no serious or critical violation and nothing is wider than the screen, wide or at
390 px."""

import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from integrations.reconcile.models import ReconciliationRun, Result

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
BLOCKING = {"serious", "critical"}
SHOTS = os.environ.get("SWITCHBOARD_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def serious(results) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


@pytest.fixture
def runs(db):
    systems = {"hr": "workday", "psa": "kantata", "erp": "netsuite"}
    workers = ReconciliationRun.objects.create(
        job="workers",
        status="done",
        systems=systems,
        matched=60,
        missing=1,
        mismatched=0,
        finished_at=timezone.now(),
        started_by="system:schedule",
        records={"workday": 61, "kantata": 60, "netsuite": 61},
    )
    Result.objects.create(
        run=workers,
        key="dana.okafor-longname@firm.example",
        label="Dana Okafor-Longname",
        outcome="missing",
        present={"workday": "f04347774c395c1198802c8e90b4fca8", "netsuite": "305"},
        missing_in=["kantata"],
    )
    Result.objects.bulk_create(
        Result(
            run=workers,
            key=f"person{n:03d}@firm.example",
            label=f"Person {n}",
            outcome="matched",
            present={"workday": str(n), "kantata": str(n), "netsuite": str(n)},
        )
        for n in range(60)
    )
    projects = ReconciliationRun.objects.create(
        job="projects", status="done", systems=systems, matched=20, mismatched=1, finished_at=timezone.now()
    )
    Result.objects.create(
        run=projects,
        key="PRJ-2025-0004",
        label="Contoso - Finance Transformation",
        outcome="mismatched",
        present={"salesforce": "0065g", "kantata": "41290004", "netsuite": "4003"},
        differences=[
            {
                "field": "name",
                "values": {
                    "salesforce": "Contoso - Finance Transformation",
                    "kantata": "Contoso - Finance Transformation",
                    "netsuite": "Renamed by hand in the ERP",
                },
            }
        ],
    )
    ReconciliationRun.objects.create(
        job="hours",
        status="failed",
        systems={"psa": "kantata"},
        finished_at=timezone.now(),
        error="systems: a reconciliation needs at least two connected systems",
    )
    return {"workers": workers, "projects": projects}


def test_a_count_opens_its_rows_and_a_row_is_resolved_by_keyboard(page, login, runs):
    page.set_default_timeout(30_000)  # the shared CI machine can be slow to serve a page
    login(page, "operator")
    page.goto("/reconciliation/")
    expect(page.locator("[data-testid=recon-failed-hours]")).to_contain_text("at least two connected systems")
    shot(page, "reconciliation-home")
    page.click("[data-testid=recon-missing-workers]")
    expect(page.locator("[data-testid=recon-result]")).to_have_count(1)
    expect(page.locator("[data-testid=recon-result]")).to_contain_text("not in kantata")
    page.locator("input[name=reason]").focus()
    page.keyboard.type("created the Kantata user")
    page.keyboard.press("Enter")
    expect(page.locator(".message-success")).to_contain_text("Dana Okafor-Longname")
    expect(page.locator("[data-testid=recon-result]")).to_contain_text("created the Kantata user")
    assert Result.objects.get(outcome="missing").state == "resolved"
    page.goto(f"/reconciliation/{runs['projects'].pk}/?outcome=missing")
    expect(page.locator("[data-testid=recon-results-empty]")).to_be_visible()
    page.goto(f"/reconciliation/{runs['workers'].pk}/?outcome=matched")
    expect(page.locator("[data-testid=recon-result]")).to_have_count(60)
    shot(page, "reconciliation-long-list")


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations_and_nothing_wider_than_the_screen(page, login, runs, viewport):
    page.set_default_timeout(30_000)
    login(page, "admin")
    page.set_viewport_size(viewport)
    axe, found = Axe(), {}
    paths = (
        "/reconciliation/",
        f"/reconciliation/{runs['workers'].pk}/",
        f"/reconciliation/{runs['projects'].pk}/?outcome=mismatched",
        f"/reconciliation/{runs['projects'].pk}/?outcome=missing",
    )
    for n, path in enumerate(paths):
        page.goto(path)
        problems = serious(axe.run(page))
        if problems:
            found[path] = problems
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{path} is {width}px wide at {viewport['width']}px"
        shot(page, f"reconciliation-{'phone' if viewport is PHONE else 'wide'}-{n}")
    assert not found, found
