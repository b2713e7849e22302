"""The database goes away under a real worker in the middle of an attempt: the worker's
PostgreSQL sessions are terminated (pg_terminate_backend on the test's own database) while the
ERP works on a posting. The worker cannot record the answer; it reconnects and gives the row
back counted as a database error, not a worker loss, and the next attempt finds the posting by
look-up instead of posting again or waiting for the lease (integrations/leases.py)."""

import time

from django.db import connection

from integrations.deliveries.choices import DeliveryState, Outcome
from integrations.deliveries.models import Delivery

from .harness import WORKER_TEST_MARKS, all_terminal, check, drive, make_connection, request_postings

pytestmark = WORKER_TEST_MARKS

LEASE_SECONDS = 60


def terminate_other_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_sessions_killed_while_a_posting_is_in_flight_cost_a_database_error_not_a_worker_loss(
    simulator, worker, settings
):
    settings.SWITCHBOARD_LEASE_SECONDS = LEASE_SECONDS
    simulator.config(script={"inv:0": ["late:4"]}, honour_keys=False)  # the ERP works 4 s on it
    erp = make_connection(simulator, timeout_seconds=20)
    (delivery,) = request_postings(erp, 1)
    worker(SWITCHBOARD_LEASE_SECONDS=str(LEASE_SECONDS))
    drive(
        lambda: Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.IN_FLIGHT).exists(),
        timeout=30,
        interval=0.1,
    )
    started = time.monotonic()
    killed = terminate_other_sessions()
    took = drive(all_terminal, timeout=LEASE_SECONDS - 10)
    delivery.refresh_from_db()
    outcomes = list(delivery.attempt_log.values_list("outcome", flat=True))
    figures = check(
        simulator, sessions_killed=killed, settled_s=round(time.monotonic() - started, 1), outcomes=outcomes
    )
    figures.show("worker's database sessions terminated mid-attempt")
    assert killed >= 1 and took < LEASE_SECONDS - 10  # settled without waiting for the lease
    assert (delivery.state, delivery.db_errors, delivery.worker_losses) == (DeliveryState.SUCCEEDED, 1, 0)
    assert outcomes == [Outcome.FOUND]  # the interrupted attempt left no record; the next one looked it up
    assert (figures.posted, figures.lost, figures.duplicated) == (1, 0, 0)
