"""Event → run → delivery → posting → run done, through a real Celery worker, PostgreSQL,
Redis and the ERP simulator: the runtime's doorbells, the ledger's tasks and the resume
after delivery all cross real process boundaries. Duplicates and a 422 included."""

from integrations.deliveries.models import Delivery
from integrations.events.services import ingest_event
from integrations.runs.dispatch import dispatch_due, sweep_expired
from integrations.runs.models import Run, RunException
from tests.reliability.conftest import empty_broker, simulator, worker  # noqa: F401
from tests.reliability.harness import WORKER_TEST_MARKS, check, drive, make_connection
from tests.runtime.conftest import INVOICE_FLOW, crm, publish_flow  # noqa: F401

pytestmark = WORKER_TEST_MARKS


def runs_settled() -> bool:
    dispatch_due()
    sweep_expired()
    return not Run.objects.exclude(status__in=["succeeded", "failed"]).exists()


def test_events_flow_through_a_real_worker_to_one_posting_each(simulator, worker, personas, crm):  # noqa: F811
    simulator.config(script={"INV-13": ["422"]})
    make_connection(simulator, "erp")
    publish_flow(personas["analyst"], INVOICE_FLOW)
    worker()
    for i in range(20):
        for _copy in range(2 if i % 5 == 0 else 1):  # every fifth event arrives twice
            ingest_event(source="crm", type="invoice.approved", external_id=f"evt-{i}",
                         payload={"id": f"INV-{i}", "amount": i})  # fmt: skip
    drive(runs_settled, timeout=120)
    statuses = list(Run.objects.values_list("status", flat=True))
    assert len(statuses) == 20 and statuses.count("succeeded") == 19 and statuses.count("failed") == 1
    figures = check(simulator, expect_dead={"INV-13"})
    figures.show("event to posting")
    assert (figures.posted, figures.lost, figures.duplicated) == (19, 0, 0)
    exc = RunException.objects.get()
    assert exc.business_key == "evt-13" and "cost centre unknown" in exc.message
    assert Delivery.objects.get(external_id="INV-13").attempts == 1
