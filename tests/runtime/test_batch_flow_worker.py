"""Batch flows end to end through a real Celery worker, PostgreSQL, Redis and the ERP
simulator: the split, the chunk messages, the completion and the group postings all cross
real process boundaries — and a worker SIGKILLed while chunks run costs latency only."""

from integrations.events.services import ingest_event
from integrations.runs.batch.chunks import dispatch_due as dispatch_chunks
from integrations.runs.batch.chunks import sweep_expired as sweep_chunks
from integrations.runs.dispatch import dispatch_due, sweep_expired
from integrations.runs.models import Run, RunChunk, RunException
from tests.reliability.conftest import empty_broker, simulator, worker  # noqa: F401
from tests.reliability.harness import WORKER_TEST_MARKS, check, drive, make_connection
from tests.runtime.conftest import crm, publish_flow  # noqa: F401
from tests.runtime.test_batch_flows import BILLING_FLOW, INVOICE_PAGE_FLOW

pytestmark = WORKER_TEST_MARKS


def settled(run_id):
    def done() -> bool:
        dispatch_due(), sweep_expired(), dispatch_chunks(), sweep_chunks()
        return Run.objects.get(pk=run_id).status in ("succeeded", "failed")

    return done


def test_a_page_of_time_entries_becomes_one_posting_per_project_group(simulator, worker, personas, crm):  # noqa: F811
    make_connection(simulator, "erp")
    flow = {**BILLING_FLOW, "for_each": {"path": "$.entries", "chunk_size": 25}}
    flow["steps"] = [dict(s) for s in flow["steps"]]
    flow["steps"][1]["size"] = 40
    flow["steps"][2]["external_id"] = "{{ record.batch_id }}"
    publish_flow(personas["analyst"], flow, key="billing")
    worker()
    entries = [{"id": f"T{i}", "project": f"P{i % 3}", "hours": 1 + i % 8} for i in range(200)]
    entries[17].pop("hours")  # one bad entry: an exception, the other 199 go on
    run = ingest_event(source="crm", type="time.page", external_id="page-1", payload={"entries": entries}).runs[0]
    drive(settled(run.pk), timeout=120)
    run.refresh_from_db()
    assert RunChunk.objects.filter(run=run, status="done").count() == 8
    assert (run.output["records"], run.output["succeeded"], run.output["failed"]) == (200, 199, 1)
    # P0: 66 entries, P1: 67, P2: 66 (less the bad one) -> groups of at most 40: 2 + 2 + 2
    assert (run.status, run.output["groups"], run.output["deliveries"]) == ("failed", 6, 6)
    figures = check(simulator)
    figures.show("batch flow: groups")
    assert (figures.posted, figures.lost, figures.duplicated) == (6, 0, 0)
    counts = sorted(len(p["records"]) for p in simulator.postings())
    assert sum(counts) == 199 and max(counts) == 40
    assert RunException.objects.get().item == "record:17"


def test_a_worker_killed_while_a_chunk_runs_costs_no_posting_and_no_duplicate(simulator, worker, personas, crm):  # noqa: F811
    make_connection(simulator, "erp")
    flow = {**INVOICE_PAGE_FLOW, "for_each": {"path": "$.invoices", "chunk_size": 500}}
    publish_flow(personas["analyst"], flow, key="invoice-pages")
    first = worker()
    invoices = [{"id": f"INV-{i}", "amount": i} for i in range(1000)]
    run = ingest_event(source="crm", type="invoice.page", external_id="page-1", payload={"invoices": invoices})
    run = run.runs[0]
    drive(lambda: RunChunk.objects.filter(run=run, status="running").exists(), timeout=60, interval=0.01)
    first.kill()  # SIGKILL, whole process group, while a chunk holds its lease
    worker()
    drive(settled(run.pk), timeout=240)
    run.refresh_from_db()
    assert (run.status, run.output["succeeded"], run.output["deliveries"]) == ("succeeded", 1000, 1000)
    assert sum(RunChunk.objects.filter(run=run).values_list("worker_losses", flat=True)) >= 1
    figures = check(simulator)
    figures.show("batch flow: worker killed mid-chunk")
    assert (figures.posted, figures.lost, figures.duplicated) == (1000, 0, 0)
