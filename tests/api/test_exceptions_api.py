"""The exception inbox over the API: edit-and-resubmit and bulk retry of 100 exceptions,
both audited; actions refused to roles without work_exceptions."""

import pytest

from integrations.audit.models import AuditEntry
from integrations.deliveries.models import Delivery
from integrations.events.services import ingest_event
from integrations.runs.inbox.bulk import process_chunk
from integrations.runs.models import BulkJob, Run, RunException
from integrations.runs.services import execute_run
from tests.api.runtime_fixtures import *  # noqa: F403
from tests.api.runtime_fixtures import problem_fields
from tests.runtime.test_event_to_delivery import drive

pytestmark = pytest.mark.django_db
URL = "/api/v1/exceptions/"


def failed_mappings(n):
    """n runs that fail in the map step (no invoice id): n open exceptions."""
    for i in range(n):
        result = ingest_event(source="crm", type="invoice.approved", external_id=f"bad-{i}", payload={"amount": i})
        execute_run(result.runs[0].pk)


def test_edit_and_resubmit_through_the_api(
    token_client, invoice_flow, erp, sim, personas, django_capture_on_commit_callbacks
):
    sim.config(script={"INV-5": ["422"]})
    result = ingest_event(source="crm", type="invoice.approved", external_id="e5", payload={"id": "INV-5", "amount": 1})
    drive(result.runs[0].pk, django_capture_on_commit_callbacks)
    exc = RunException.objects.get()
    api = token_client("operator")
    detail = api.get(f"{URL}{exc.pk}/").json()
    assert detail["original_input"]["amount"] == 1 and detail["status"] == "open"
    edited = {**detail["original_input"], "amount": 2}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"{URL}{exc.pk}/resubmit/", {"input": edited, "note": "fixed"}, content_type="application/json"
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "retrying" and body["input_revisions"][0]["diff"] == {"amount": [1, 2]}
    assert body["original_input"]["amount"] == 1 and body["current_input"]["amount"] == 2
    assert drive(exc.run_id, django_capture_on_commit_callbacks).status == "succeeded"
    assert [p["amount"] for p in sim.postings()] == [2]
    assert Delivery.objects.get().send_key == "invoice:INV-5:r1"
    assert AuditEntry.objects.filter(action="exception.resubmit", actor=personas["operator"]).count() == 1
    again = api.post(f"{URL}{exc.pk}/resubmit/", {"input": edited}, content_type="application/json")
    assert again.status_code == 409  # resolved now


def test_bulk_retry_of_100_exceptions_is_a_job_with_progress(token_client, invoice_flow, erp_offline, personas):
    failed_mappings(100)
    api = token_client("operator")
    assert api.get(URL, {"status": "open", "page_size": 200}).json()["results"].__len__() == 100
    response = api.post(
        URL + "bulk/",
        {"action": "retry", "filter": {"status": "open", "flow": "invoices"}},
        content_type="application/json",
    )
    assert response.status_code == 202
    job = response.json()
    assert (job["total"], job["processed"], job["status"]) == (100, 0, "queued")
    while BulkJob.objects.get(pk=job["id"]).status != "done":
        process_chunk(job["id"])  # what the Celery task does, chunk by chunk
    progress = api.get(f"{URL}jobs/{job['id']}/").json()
    assert (progress["processed"], progress["succeeded"], progress["failed"]) == (100, 100, 0)
    assert RunException.objects.filter(status="retrying").count() == 100
    assert Run.objects.filter(trigger="retry").count() == 100
    assert AuditEntry.objects.filter(action="exception.retry", actor=personas["operator"]).count() == 100
    assert AuditEntry.objects.filter(action="exception.bulk_retry").count() == 1


def test_bulk_filters_are_validated(token_client, invoice_flow):
    api = token_client("operator")
    response = api.post(
        URL + "bulk/", {"action": "retry", "filter": {"colour": "red"}}, content_type="application/json"
    )
    assert response.status_code == 400 and "filter.colour" in problem_fields(response)
    response = api.post(
        URL + "bulk/", {"action": "resolve", "filter": {"status": "open"}}, content_type="application/json"
    )
    assert response.status_code == 400 and "params.reason" in problem_fields(response)
    bad_tags = {"action": "tag", "filter": {"status": "open"}, "params": {"add": "q3"}}
    response = api.post(URL + "bulk/", bad_tags, content_type="application/json")
    assert response.status_code == 400 and "params.add" in problem_fields(response)
    assert api.get("/api/v1/runs/", {"event": "abc"}).status_code == 200


def test_actions_name_the_field_and_refuse_other_roles(token_client, invoice_flow, erp_offline):
    failed_mappings(1)
    exc = RunException.objects.get()
    api = token_client("operator")
    response = api.post(f"{URL}{exc.pk}/resolve/", {"reason": ""}, content_type="application/json")
    assert response.status_code == 400 and "reason" in problem_fields(response)
    response = api.post(f"{URL}{exc.pk}/retry/", {"from_step": "middle"}, content_type="application/json")
    assert response.status_code == 400 and "from_step" in problem_fields(response)
    for role in ("viewer", "analyst", "approver"):
        assert token_client(role).post(f"{URL}{exc.pk}/skip/", {}, content_type="application/json").status_code == 403
    assert token_client("viewer").get(f"{URL}{exc.pk}/").status_code == 200
    assert (
        api.post(f"{URL}{exc.pk}/assign/", {"assignee": "admin"}, content_type="application/json").json()["assignee"]
        == "admin"
    )
    assert (
        api.post(f"{URL}{exc.pk}/comment/", {"body": "looking"}, content_type="application/json").json()["comments"][0][
            "body"
        ]
        == "looking"
    )
    assert api.post(f"{URL}{exc.pk}/tag/", {"add": ["q3"]}, content_type="application/json").json()["tags"] == ["q3"]
    assert (
        api.post(f"{URL}{exc.pk}/skip/", {"reason": "duplicate"}, content_type="application/json").json()["status"]
        == "skipped"
    )


def test_a_stalled_bulk_job_is_rung_again_and_carries_on(token_client, invoice_flow, erp_offline, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.runs import doorbell
    from integrations.runs.inbox import bulk

    failed_mappings(3)
    job = token_client("operator").post(URL + "bulk/", {"action": "skip", "filter": {"status": "open"}},
                                        content_type="application/json").json()  # fmt: skip
    rung = []
    monkeypatch.setattr(doorbell, "enqueue_bulk_job", rung.append)
    assert bulk.resume_stalled() == 0  # fresh
    assert bulk.resume_stalled(timezone.now() + timedelta(minutes=5)) == 1 and rung == [job["id"]]
    process_chunk(job["id"])
    assert bulk.resume_stalled(timezone.now() + timedelta(minutes=5)) == 0  # done
    assert RunException.objects.filter(status="skipped").count() == 3
