"""Reconciliation against the sandboxes (test-size firm, seeded alike in every system):
on untouched data every worker, project and project-month matches; after three seeded
disagreements — a worker missing in the PSA, a project named differently in the ERP, hours
posted twice by hand in the ERP — each is found, and nothing else."""

import pytest

from integrations.connections.demo import demo_values
from integrations.connections.models import Connection
from integrations.connections.services import create_connection
from integrations.connectors.registry import get_connector
from integrations.reconcile.firm import seed_links
from integrations.reconcile.models import Result
from integrations.reconcile.queries import latest_counts
from integrations.reconcile.services import run_job
from integrations.sandboxes.admin_api import reset_vendor
from integrations.sandboxes.models import SandboxRecord
from tests.connectors.contract import use_sandboxes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandboxes(live_server, settings):
    settings.ROOT_URLCONF = "tests.crosswalk.sandbox_urls"
    use_sandboxes(live_server, settings)
    for vendor in ("workday", "kantata", "netsuite", "salesforce"):
        create_connection("system:test", name=vendor, kind=vendor, **demo_values(vendor))
        reset_vendor(vendor, "test")
    seed_links("test")
    return {v: get_connector(Connection.objects.get(name=v)) for v in ("kantata", "netsuite")}


def not_matched(run):
    return {(r.outcome, r.label, tuple(r.missing_in), tuple(d["field"] for d in r.differences))
            for r in Result.objects.filter(run=run).exclude(outcome="matched")}  # fmt: skip


def test_untouched_systems_match_everywhere(sandboxes):
    for job, expected in (("workers", 24), ("projects", 21)):
        run = run_job(job, page=7)  # small pages: the streaming path crosses page ends
        assert (run.status, run.error) == ("done", "")
        assert (run.matched, run.missing, run.mismatched) == (expected, 0, 0)
    hours = run_job("hours", page=50)
    assert hours.status == "done" and hours.matched > 20 and (hours.missing, hours.mismatched) == (0, 0)
    assert hours.records == {"kantata": 1200, "netsuite": 1200}


def test_each_seeded_disagreement_is_found_and_nothing_else(sandboxes):
    kantata, netsuite = sandboxes["kantata"], sandboxes["netsuite"]
    gone = SandboxRecord.objects.get(vendor="kantata", object_type="users", record_id="20305")
    gone_name = gone.data["full_name"]
    gone.delete()  # a consultant nobody created in the PSA
    netsuite.update("job", "4003", {"companyName": "Renamed by hand in the ERP"})
    entry = next(e for e in kantata.iterate("time_entries", page_size=200) if e["approved"])
    bill = netsuite.find_by_external_ref("timeBill", "externalId", "TE-" + f"{int(entry['id']) - 903300000:06d}")
    original = netsuite.read("timeBill", bill.remote_id)
    netsuite.create("timeBill", {k: original[k] for k in ("employee", "customer", "tranDate", "hours", "item",
                                                          "approvalStatus")})  # fmt: skip

    workers = run_job("workers")
    assert not_matched(workers) == {("missing", gone_name, ("kantata",), ())}
    projects = run_job("projects")
    [(outcome, _label, missing, fields)] = not_matched(projects)
    assert (outcome, missing, fields) == ("mismatched", (), ("name",))
    renamed = Result.objects.get(run=projects, outcome="mismatched")
    assert renamed.differences[0]["values"]["netsuite"] == "Renamed by hand in the ERP"
    hours = run_job("hours")
    [doubled] = Result.objects.filter(run=hours).exclude(outcome="matched")
    posted = doubled.differences[0]["values"]
    assert doubled.outcome == "mismatched" and doubled.key.endswith(entry["date_performed"][:7])
    assert round(posted["netsuite"] - posted["kantata"], 2) == round(entry["time_in_minutes"] / 60, 2)

    counts = latest_counts()
    assert counts["mismatches"] == 3 and counts["open"] == 3
    assert counts["jobs"]["workers"]["missing"] == 1 and counts["jobs"]["hours"]["mismatched"] == 1
