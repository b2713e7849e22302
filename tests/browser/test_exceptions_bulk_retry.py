"""Bulk retry in a real browser: 200 runs failed for one cause; the analyst fixes the flow,
the operator retries all 200 on the live version from the queue, watches the job's progress
bar reach the end with a correct summary, and the target receives each record exactly once."""

import copy
import threading
import time

import pytest
from playwright.sync_api import expect

from integrations.events.services import ingest_event
from integrations.flows.services import publish, save_draft
from integrations.runs.choices import JobStatus
from integrations.runs.inbox.bulk import process_chunk
from integrations.runs.models import BulkJob, Run, RunException
from integrations.runs.services import execute_run
from tests.api.runtime_fixtures import *  # noqa: F403
from tests.runtime.conftest import INVOICE_FLOW
from tests.runtime.test_event_to_delivery import drive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
FAILED = 200


def fail_all(n: int) -> None:
    """The CRM sends `number` where the flow expects `id`: every run fails at the map step."""
    for i in range(n):
        event = ingest_event(
            source="crm", type="invoice.approved", external_id=f"num-{i}", payload={"number": f"INV-{i}", "amount": i}
        )
        execute_run(event.runs[0].pk)


def fix_the_flow(flow, analyst) -> None:
    definition = copy.deepcopy(INVOICE_FLOW)
    definition["steps"][0]["fields"][0] = {"to": "external_ref", "from": "$.number", "required": True}
    save_draft(flow, analyst, definition)
    publish(flow, analyst, notes="the CRM sends the invoice number as `number`")


def work_the_job(stop: threading.Event) -> None:
    """What the worker does with the job's doorbells: one chunk at a time, slowly enough
    that the page shows the bar part-way."""
    while not stop.is_set():
        job = BulkJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).first()
        if job is None:
            time.sleep(0.1)
            continue
        process_chunk(job.pk)
        time.sleep(0.5)


def test_bulk_retry_of_200_after_fixing_the_cause_posts_each_once(
    page, login, live_server, invoice_flow, erp, sim, personas, django_capture_on_commit_callbacks
):
    fail_all(FAILED)
    assert RunException.objects.filter(status="open").count() == FAILED
    fix_the_flow(invoice_flow, personas["analyst"])

    login(page, "operator")
    page.goto("/exceptions/?flow=invoices")
    page.check("[data-testid=bulk-scope-all]")
    page.select_option("[data-testid=bulk-action]", "retry")
    page.select_option("[data-testid=bulk-version]", "current")
    page.click("[data-testid=bulk-review]")
    expect(page.locator("[data-testid=bulk-confirm-summary]")).to_contain_text(f"Retry {FAILED} exceptions")
    expect(page.locator("[data-testid=bulk-confirm-summary]")).to_contain_text("the live version")

    stop = threading.Event()
    worker = threading.Thread(target=work_the_job, args=(stop,), daemon=True)
    worker.start()
    try:
        page.click("[data-testid=bulk-confirm-submit]")
        progress = page.locator("[data-testid=job-progress]")
        expect(progress).to_contain_text(f"of {FAILED}")
        expect(page.locator("[data-testid=job-summary]")).to_have_text(
            f"{FAILED} succeeded · 0 failed.", timeout=30_000
        )
        expect(page.locator("[data-testid=job-bar]")).to_have_attribute("value", str(FAILED))
    finally:
        stop.set()
        worker.join(timeout=10)

    retries = list(Run.objects.filter(trigger="retry").values_list("pk", flat=True))
    assert len(retries) == FAILED
    for run_id in retries:
        assert drive(run_id, django_capture_on_commit_callbacks).status == "succeeded"
    refs = [p["external_ref"] for p in sim.postings()]
    assert sorted(refs) == sorted(f"INV-{i}" for i in range(FAILED))  # every record once, none twice
    assert RunException.objects.filter(status="resolved").count() == FAILED
