"""The run page over a run the runtime really executed: an invoice posted to the ERP
simulator, which answers 422. The page shows what the runtime wrote — the failed step, the
delivery and its attempt with the vendor's answer — and a run still waiting for its
delivery is polled until the delivery ends it."""

import pytest

from integrations.events.services import ingest_event
from integrations.runs.models import Run
from integrations.runs.services import execute_run
from tests.runtime.conftest import crm, doorbells, erp, invoice_flow, sim  # noqa: F401  (fixtures)
from tests.runtime.test_event_to_delivery import drive

pytestmark = pytest.mark.django_db


def test_a_run_the_vendor_refused_shows_its_failed_step_and_the_answer(
    invoice_flow,  # noqa: F811
    erp,  # noqa: F811
    sim,  # noqa: F811
    client_for,
    django_capture_on_commit_callbacks,
):
    sim.config(script={"INV-4": ["422"]})
    event = ingest_event(source="crm", type="invoice.approved", external_id="e4", payload={"id": "INV-4", "amount": 9})
    run = drive(event.runs[0].pk, django_capture_on_commit_callbacks)
    assert run.status == "failed"

    client = client_for("viewer")
    listed = client.get("/runs/?status=failed").content.decode()
    assert f'data-run="{run.pk}"' in listed and '<code data-testid="run-failed-step">post</code>' in listed

    page = client.get(f"/runs/{run.pk}/").content.decode()
    failed = page[page.index('id="failed-step"') :]
    assert 'data-step="post"' in page[page.index('id="failed-step"') - 200 :][:400]
    assert 'data-testid="step-endpoint">erp (generic_rest): create postings' in page
    assert 'data-testid="delivery"' in failed and "HTTP 422" in failed and 'data-testid="attempt-response"' in failed
    assert run.error["message"] in page


def test_a_run_waiting_for_its_delivery_is_polled_until_it_ends(
    invoice_flow,  # noqa: F811
    erp,  # noqa: F811
    sim,  # noqa: F811
    client_for,
    django_capture_on_commit_callbacks,
):
    event = ingest_event(source="crm", type="invoice.approved", external_id="e5", payload={"id": "INV-5", "amount": 3})
    with django_capture_on_commit_callbacks(execute=True):
        execute_run(event.runs[0].pk)
    run = Run.objects.get(pk=event.runs[0].pk)
    assert run.status == "waiting-delivery"
    client = client_for("viewer")
    assert client.get(f"/runs/{run.pk}/", HTTP_HX_REQUEST="true").status_code == 200

    run = drive(run.pk, django_capture_on_commit_callbacks)
    assert run.status == "succeeded"
    ended = client.get(f"/runs/{run.pk}/", HTTP_HX_REQUEST="true")
    assert ended.status_code == 286 and 'data-testid="run-status">Succeeded<' in ended.content.decode()
