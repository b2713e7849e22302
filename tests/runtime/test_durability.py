"""Which commits wait for the disk (integrations/durability.py, docs/RELIABILITY.md §5): a
worker's sessions commit asynchronously, but the claim of a delivery, made just before its
request leaves, always waits; a relaxed block never changes its caller's transaction."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from integrations import durability
from integrations.connections.models import Connection
from integrations.deliveries import ledger
from integrations.deliveries.models import Delivery

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's"),
]


def setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.fixture
def relaxed_process():
    """This process as a worker's: its sessions commit without waiting for the disk."""
    connection.close()
    durability.relax_commits()
    try:
        yield
    finally:
        durability.restore_commits()
        connection.close()


def test_a_worker_session_commits_relaxed_and_a_durable_block_waits_for_the_disk(relaxed_process):
    assert setting() == "off"
    with durability.durable():
        assert setting() == "on"
    assert setting() == "off"


def test_a_web_session_waits_for_the_disk_and_a_relaxed_block_does_not_change_an_outer_commit():
    assert setting() == "on"
    with durability.relaxed():
        assert setting() == "off"
    assert setting() == "on"
    with transaction.atomic(), durability.relaxed():
        assert setting() == "on"  # the caller's transaction keeps its own durability


def test_the_claim_of_a_delivery_waits_for_the_disk_in_a_worker(relaxed_process, erp_offline):
    delivery = Delivery.objects.create(
        idempotency_key="k-1",
        connection=Connection.objects.get(name="erp"),
        object="postings",
        action="create",
        payload={"a": 1},
        original_payload={"a": 1},
    )
    with CaptureQueriesContext(connection) as seen:
        claimed = ledger.claim(delivery.pk)
    assert claimed is not None and claimed.fence == 1
    sql = [q["sql"] for q in seen.captured_queries]
    set_on = next(i for i, s in enumerate(sql) if "synchronous_commit TO on" in s)
    update = next(i for i, s in enumerate(sql) if s.startswith("UPDATE"))
    assert set_on < update  # in the claim's own transaction, before its UPDATE
    assert setting() == "off"  # and only for that transaction
