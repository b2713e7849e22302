"""Consultant master sync, expenses to ERP and invoice status back, end to end through a real
worker against the sandboxes: field by field in each target, the crosswalk links the
deliveries made, the exceptions the policies raise with their reasons."""

import io

from integrations.crosswalk import demo as crosswalk_demo
from integrations.crosswalk.models import CrosswalkLink
from integrations.flows.models import Flow
from integrations.runs.models import Run, RunException
from integrations.sandboxes.models import SandboxRecord
from integrations.triggers.polls import poll
from tests.gallery.conftest import connector, settle
from tests.reliability.harness import WORKER_TEST_MARKS

pytestmark = WORKER_TEST_MARKS


def run_flow(key: str, expected_runs: int | None = None) -> Flow:
    flow = Flow.objects.get(key=key)
    found = poll(flow.pk)
    assert expected_runs is None or found == expected_runs, found
    runs = Run.objects.filter(flow_version__flow=flow)
    try:
        settle(lambda: not runs.exclude(status__in=("succeeded", "failed")).exists(), timeout=300)
    except AssertionError:
        raise AssertionError([(r.pk, r.status, r.error) for r in runs.exclude(status__in=("succeeded", "failed"))])
    return flow


def test_workers_from_workday_become_netsuite_employees_and_a_terminated_one_is_deactivated(sandboxes, workers):
    sandboxes()
    leaver = SandboxRecord.objects.filter(vendor="workday", object_type="workers").order_by("record_id")[3]
    leaver.data = {**leaver.data, "terminationDate": "2026-03-31", "lastUpdated": "2026-03-31T18:00:00"}
    leaver.save(update_fields=["data"])
    report = connector("workday").query("worker_report").records
    workers()
    flow = run_flow("consultant-master-sync", len(report))
    assert not RunException.objects.filter(flow=flow).exists()
    netsuite = connector("netsuite")
    for row in report:
        employee_id = netsuite.find_by_external_ref("employee", "externalId", f"W-{row['Employee_ID']}").remote_id
        employee = netsuite.read("employee", employee_id)
        first, *_, last = row["Legal_Name"].split(" ")
        assert (employee["firstName"], employee["lastName"]) == (row["Legal_Name"].rsplit(" ", 1)[0], last), first
        assert employee["email"] == row["Email_-_Work"].lower() and employee["title"] == row["Business_Title"]
        assert employee["isJobResource"] is (row["Worker_Status"] != "Terminated"), row
        # the id NetSuite returned is linked to the worker's canonical identity, as Workday's id is
        canonical = CrosswalkLink.objects.get(object="worker", system="workday", external_id=row["Employee_ID"])
        assert CrosswalkLink.objects.get(object="worker", system="netsuite", external_id=employee_id).canonical_id == (
            canonical.canonical_id
        )
    assert sum(1 for row in report if row["Worker_Status"] == "Terminated") == 1
    assert poll(flow.pk) == 0  # nothing changed since: nothing new


def test_expenses_are_checked_and_billable_ones_rebilled_once(sandboxes, workers):
    sandboxes()
    crosswalk_demo.seed(io.StringIO())
    expenses = [r.data for r in SandboxRecord.objects.filter(vendor="kantata", object_type="expenses")]
    workers()
    flow = run_flow("expenses-to-erp", len(expenses))
    netsuite = connector("netsuite")
    refused = {e.original_input["id"]: e.message for e in RunException.objects.filter(flow=flow)}
    for expense in expenses:
        found = netsuite.find_by_external_ref("invoice", "externalId", f"expense:{expense['id']}")
        if expense["amount_in_cents"] > 50000:
            assert "a receipt is required above 500" in refused[expense["id"]] and found is None
            continue
        assert expense["id"] not in refused
        if not expense["billable"]:
            assert found is None
            continue
        invoice = netsuite.read("invoice", found.remote_id)
        line = invoice["item"]["items"][0]
        assert (line["item"]["id"], line["amount"]) == ("220", expense["amount_in_cents"] / 100)
        assert invoice["tranDate"] == expense["date"] and invoice["entity"]["id"]
    assert refused and any(e["billable"] and e["amount_in_cents"] <= 50000 for e in expenses)


def test_an_invoice_issued_then_paid_in_netsuite_shows_on_the_project_in_kantata(sandboxes, workers):
    sandboxes()
    kantata, netsuite = connector("kantata"), connector("netsuite")
    project = "006PROJECTWON0001"  # the canonical project id lead to project gives workspace and job
    workspace = kantata.upsert("workspaces", "opportunity", project, {"title": "Acme rollout", "creator_role": "maven"})
    customer = netsuite.query("customer").records[0]["id"]
    job = netsuite.upsert("job", "externalId", project, {"companyName": "Acme rollout", "parent": {"id": customer},
                                                           "subsidiary": {"id": "1"}}).remote_id  # fmt: skip
    invoice = netsuite.create("invoice", {"entity": {"id": customer}, "job": {"id": job}, "tranId": "INV-9001",
                                          "tranDate": "2026-04-01", "dueDate": "2026-05-01", "total": 12500.0,
                                          "status": {"id": "A"}}).remote_id  # fmt: skip
    workers()
    flow = run_flow("invoice-status-back")
    assert not RunException.objects.filter(flow=flow).exists()
    milestone = kantata.find_by_external_ref("stories", "task", "invoice:INV-9001")
    story = kantata.read("stories", milestone.remote_id)
    assert (story["workspace_id"], story["title"], story["story_type"], story["state"]) == (
        workspace.remote_id, "Invoice INV-9001: issued", "milestone", "started")  # fmt: skip
    netsuite.update("invoice", invoice, {"status": {"id": "B"}})  # paid in full
    run_flow("invoice-status-back", 1)
    story = kantata.read("stories", milestone.remote_id)
    assert (story["title"], story["state"]) == ("Invoice INV-9001: paid", "completed")
    assert kantata.find_by_external_ref("stories", "task", "invoice:INV-9001").remote_id == milestone.remote_id
