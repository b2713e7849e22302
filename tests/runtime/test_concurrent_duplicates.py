"""The same event arriving at the same moment on several connections (PostgreSQL): one
event, one run, one delivery request — the unique constraints decide, not luck."""

import threading

import pytest
from django.db import connection as db_connection

from integrations.deliveries.models import Delivery
from integrations.events.models import Event
from integrations.events.services import ingest_event
from integrations.runs.models import Run
from integrations.runs.services import execute_run

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_threads(n, fn):
    barrier, results, errors = threading.Barrier(n), [], []

    def work():
        try:
            barrier.wait()
            results.append(fn())
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results


def test_three_concurrent_copies_make_one_run_and_one_delivery(invoice_flow, erp_offline):
    payload = {"id": "INV-77", "amount": 10}
    results = in_threads(
        3, lambda: ingest_event(source="crm", type="invoice.approved", external_id="evt-77", payload=payload)
    )
    assert sorted(r.created for r in results) == [False, False, True]
    assert Event.objects.count() == 1 and Run.objects.count() == 1
    run_id = Run.objects.get().pk
    assert {tuple(r.pk for r in result.runs) for result in results} == {(run_id,)}
    # Three redelivered task messages for the same run: one claim wins.
    outcomes = in_threads(3, lambda: execute_run(run_id))
    assert sum(o is not None for o in outcomes) == 1
    assert Delivery.objects.count() == 1 and Run.objects.get().status == "waiting-delivery"
