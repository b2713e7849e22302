"""Event → run → delivery through the ledger → posting at the ERP simulator → run done.

Runs and deliveries are driven by calling the services the Celery tasks wrap; the ERP is
the reliability suite's simulator (a real HTTP server in its own process)."""

import pytest

from integrations.audit.models import AuditEntry
from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_one
from integrations.events.services import ingest_event
from integrations.runs.models import Run, RunException
from integrations.runs.services import execute_run

pytestmark = pytest.mark.django_db


def send(payload, external_id="evt-1"):
    return ingest_event(source="crm", type="invoice.approved", external_id=external_id, payload=payload)


def drive(run_id, capture):
    """Execute the run, send its deliveries, resume it: what the workers would do."""
    with capture(execute=True):
        execute_run(run_id)
    for delivery in Delivery.objects.filter(run_id=run_id, state="PENDING"):
        with capture(execute=True):
            deliver_one(delivery.pk)
    run = Run.objects.get(pk=run_id)
    if run.status == "queued":
        with capture(execute=True):
            execute_run(run_id)
    return Run.objects.get(pk=run_id)


def test_an_event_is_mapped_delivered_once_and_the_run_succeeds(
    invoice_flow, erp, sim, doorbells, django_capture_on_commit_callbacks
):
    result = send({"id": "INV-1", "amount": 120})
    assert result.created and len(result.runs) == 1
    run = drive(result.runs[0].pk, django_capture_on_commit_callbacks)
    assert run.status == "succeeded", run.error
    assert [(p["external_ref"], p["amount"]) for p in sim.postings()] == [("INV-1", 120)]
    steps = list(run.steps.order_by("id").values_list("step_id", "status"))
    assert ("shape", "succeeded") in steps and ("post", "waiting") in steps and steps[-1] == ("post", "succeeded")
    assert run.steps.get(step_id="shape").output == {"external_ref": "INV-1", "amount": 120, "currency": "EUR"}


def test_the_same_event_three_times_makes_one_run_and_one_posting(
    invoice_flow, erp, sim, doorbells, django_capture_on_commit_callbacks
):
    first = send({"id": "INV-2", "amount": 5})
    again = [send({"id": "INV-2", "amount": 5}) for _ in range(2)]
    assert [a.created for a in again] == [False, False]
    assert {a.event.pk for a in again} == {first.event.pk}
    assert [r.pk for r in again[0].runs] == [r.pk for r in first.runs]
    drive(first.runs[0].pk, django_capture_on_commit_callbacks)
    assert execute_run(first.runs[0].pk) is None  # a redelivered task finds nothing to claim
    assert Run.objects.count() == 1 and Delivery.objects.count() == 1
    assert len(sim.postings()) == 1


def test_a_422_opens_an_exception_after_exactly_one_attempt(
    invoice_flow, erp, sim, doorbells, django_capture_on_commit_callbacks
):
    sim.config(script={"INV-3": ["422"]})
    result = send({"id": "INV-3", "amount": 7})
    run = drive(result.runs[0].pk, django_capture_on_commit_callbacks)
    assert run.status == "failed"
    exc = RunException.objects.get(run=run)
    assert (exc.status, exc.step_id, exc.classification) == ("open", "post", "permanent")
    assert "cost centre unknown" in exc.message
    assert exc.original_input["external_ref"] == "INV-3"
    posts = [r for r in sim.state()["requests"] if r["method"] == "POST" and r.get("ref") == "INV-3"]
    assert len(posts) == 1 and sim.postings() == []
    assert Delivery.objects.get().attempts == 1
    assert AuditEntry.objects.filter(action="exception.open", object_id=str(exc.pk)).exists()


def test_a_mapping_error_is_a_permanent_exception_without_any_delivery(invoice_flow, erp_offline, doorbells):
    result = send({"amount": 7}, external_id="evt-no-id")  # no id: a required field
    run = execute_run(result.runs[0].pk)
    assert run.status == "failed"
    exc = RunException.objects.get(run=run)
    assert exc.step_id == "shape" and exc.classification == "permanent" and "external_ref" in exc.message + exc.field
    assert Delivery.objects.count() == 0


def test_an_event_no_flow_listens_to_is_stored_without_runs(invoice_flow, doorbells):
    result = ingest_event(source="crm", type="invoice.voided", external_id="x-1", payload={"id": "INV-9"})
    assert result.created and result.runs == [] and result.event.pk
