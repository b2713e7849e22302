"""The reconciliation pages: each job's latest counts with links to the rows behind them,
the drill-down per outcome, resolving a row (reason required, audited, role checked) and
"Run now" with too few systems connected (the run fails and says why)."""

import pytest
from django.utils import timezone

from integrations.audit.models import AuditEntry
from integrations.reconcile.models import ReconciliationRun, Result
from integrations.reconcile.queries import latest_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(db):
    run = ReconciliationRun.objects.create(
        job="workers",
        status="done",
        systems={"hr": "workday", "psa": "kantata"},
        matched=1,
        missing=1,
        mismatched=1,
        finished_at=timezone.now(),
    )
    Result.objects.create(
        run=run, key="a@x", label="Ann Lee", outcome="matched", present={"workday": "1", "kantata": "2"}
    )
    Result.objects.create(
        run=run, key="b@x", label="Bo Chen", outcome="missing", present={"workday": "3"}, missing_in=["kantata"]
    )
    Result.objects.create(
        run=run,
        key="c@x",
        label="Cy Diaz",
        outcome="mismatched",
        present={"workday": "4", "kantata": "5"},
        differences=[{"field": "name", "values": {"workday": "Cy Diaz", "kantata": "Cyrus Diaz"}}],
    )
    return run


def test_home_shows_counts_that_link_to_their_rows(client_for, run):
    html = client_for("viewer").get("/reconciliation/").content.decode()
    assert f'href="/reconciliation/{run.pk}/?outcome=missing" data-testid="recon-missing-workers">1 missing' in html
    assert 'data-testid="recon-never-projects"' in html and "recon-run-workers" not in html  # a viewer cannot run
    drill = client_for("viewer").get(f"/reconciliation/{run.pk}/", {"outcome": "mismatched"}).content.decode()
    assert "Cy Diaz" in drill and "Cyrus Diaz" in drill and "Bo Chen" not in drill
    attention = client_for("viewer").get(f"/reconciliation/{run.pk}/").content.decode()
    assert "Bo Chen" in attention and "Cy Diaz" in attention and "Ann Lee" not in attention
    assert client_for("outsider").get("/reconciliation/").status_code == 403
    assert client_for("viewer").get("/reconciliation/999999/").status_code == 404


def test_resolving_a_row_needs_the_role_and_a_reason(client_for, run):
    missing = Result.objects.get(outcome="missing")
    assert (
        client_for("viewer").post(f"/reconciliation/results/{missing.pk}/resolve/", {"reason": "x"}).status_code == 403
    )
    operator = client_for("operator")
    operator.post(f"/reconciliation/results/{missing.pk}/resolve/", {"reason": ""})
    missing.refresh_from_db()
    assert missing.state == "open"
    operator.post(f"/reconciliation/results/{missing.pk}/resolve/", {"reason": "created the PSA user"})
    missing.refresh_from_db()
    assert (missing.state, missing.resolved_by.username) == ("resolved", "operator")
    assert AuditEntry.objects.get(action="reconciliation.resolve").message == "created the PSA user"
    assert latest_counts()["open"] == 1 and latest_counts()["mismatches"] == 2


def test_run_now_without_enough_systems_fails_and_says_why(client_for, personas):
    page = client_for("operator").post("/reconciliation/run/", {"job": "projects"}, follow=True)
    assert "needs at least two connected systems" in page.content.decode()
    assert ReconciliationRun.objects.get().status == "failed"
    bad = client_for("operator").post("/reconciliation/run/", {"job": "invoices"}, follow=True)
    assert "is not a reconciliation job" in bad.content.decode()


def test_the_dashboard_panel_counts_what_the_reconciliation_page_shows(client_for, run):
    panel = client_for("viewer").get("/dashboards/panels/reconciliation/").content.decode()
    assert 'data-testid="reconciliation-mismatches">2<' in panel and 'data-testid="reconciliation-open">2<' in panel
    assert f"/reconciliation/{run.pk}/?outcome=missing" in panel


def test_the_dashboard_panel_says_why_it_is_empty(client_for, personas):
    panel = client_for("viewer").get("/dashboards/panels/reconciliation/").content.decode()
    assert 'data-testid="reconciliation-empty"' in panel
