"""A batch flow's `batch` step with an `item_key`: groups gather records across runs (pages)
until `size` or `max_wait_seconds`, each record filed once — so a group makes ceil(n / size)
postings however its records were paged, and a replayed page or a re-run finish posts nothing
twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.connections.models import Connection
from integrations.deliveries.models import Delivery
from integrations.flows.models import Watermark
from integrations.runs.batch import accumulate
from integrations.runs.models import BatchGroup, GroupedRecord, Run, RunException
from integrations.runs.services import execute_run
from tests.runtime.conftest import publish_flow
from tests.runtime.test_batch_flows import BILLING_FLOW, bells, entries, page, run_all_chunks  # noqa: F401

pytestmark = pytest.mark.django_db

GATHERING_FLOW = {
    **BILLING_FLOW,
    "steps": [
        BILLING_FLOW["steps"][0],
        {**BILLING_FLOW["steps"][1], "item_key": "{{ record.entry }}"},
        BILLING_FLOW["steps"][2],
    ],
}


@pytest.fixture
def gathering(personas, crm, erp_offline, bells):  # noqa: F811
    return publish_flow(personas["analyst"], GATHERING_FLOW, key="gathering")


def run_page(records, external_id):
    run = execute_run(page("time.page", "entries", records, external_id=external_id).pk)
    run_all_chunks(run)
    finished = execute_run(run.pk)
    return Run.objects.get(pk=(finished or run).pk)


def postings(run=None):
    rows = Delivery.objects.filter(run=run) if run else Delivery.objects.all()
    return sorted((d.payload["group_key"], [r["entry"] for r in d.payload["records"]]) for d in rows)


def test_groups_fill_across_pages_and_the_rest_flushes_at_max_wait(gathering):
    first = run_page(entries(4), "page-1")  # P0: T0 T2, P1: T1 T3 — no group full yet
    assert first.status == "succeeded" and postings(first) == []
    assert first.output["filed"] == 4 and first.output["groups"] == 0
    second = run_page([*entries(8)[4:], entries(1)[0]], "page-2")  # T4..T7, and T0 again
    assert second.output["filed"] == 4 and second.output["already_filed"] == 1
    assert postings(second) == [("P0", ["T0", "T2", "T4"]), ("P1", ["T1", "T3", "T5"])]
    assert accumulate.flush_due() == 0  # not an hour old yet
    assert accumulate.flush_due(now=timezone.now() + timedelta(seconds=61)) == 2
    carrier = Run.objects.exclude(pk__in=[first.pk, second.pk]).get()
    assert (carrier.trigger, carrier.status, carrier.output["reason"]) == (
        "schedule",
        "waiting-delivery",
        "max_wait_seconds",
    )
    assert postings(carrier) == [("P0", ["T6"]), ("P1", ["T7"])]
    assert accumulate.flush_due(now=timezone.now() + timedelta(seconds=61)) == 0  # flushed once
    every = [e for _, records in postings() for e in records]
    assert sorted(every) == sorted(f"T{i}" for i in range(8))  # each entry posted once


def test_a_replayed_page_files_nothing_and_posts_nothing(gathering):
    run_page(entries(6), "page-1")
    assert len(postings()) == 2
    again = run_page(entries(6), "page-1-again")
    assert (again.output["filed"], again.output["already_filed"]) == (0, 6)
    assert accumulate.flush_due(now=timezone.now() + timedelta(seconds=61)) == 0
    assert len(postings()) == 2


def test_a_finish_that_crashes_files_nothing_so_its_retry_files_each_record_once(gathering, monkeypatch):
    run = execute_run(page("time.page", "entries", entries(6), external_id="p").pk)
    run_all_chunks(run)

    def crash(*args, **kwargs):
        raise RuntimeError("worker died before the commit")

    monkeypatch.setattr("integrations.runs.batch.runs.run_pieces", crash)
    execute_run(run.pk)
    assert not GroupedRecord.objects.exists() and not Delivery.objects.exists()
    assert not BatchGroup.objects.filter(size__gt=0).exists()


def test_a_record_without_an_identity_is_an_exception_naming_item_key(personas, crm, erp_offline, bells):  # noqa: F811
    flow = {**GATHERING_FLOW, "steps": [*GATHERING_FLOW["steps"]]}
    flow["steps"][1] = {**flow["steps"][1], "item_key": "{{ record.entry[5:] }}"}
    publish_flow(personas["analyst"], flow, key="no-identity")
    run = run_page(entries(2), "p")
    failed = RunException.objects.filter(run=run)
    assert [(e.step_id, e.field) for e in failed] == [("collect", "item_key"), ("collect", "item_key")]
    assert "empty key" in failed[0].message


def test_a_chunk_reads_each_crosswalk_link_once_however_many_records_name_it(personas, crm, erp_offline, bells):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integrations.crosswalk.models import CrosswalkLink
    from integrations.runs.batch import chunks
    from integrations.runs.models import RunChunk

    for n in range(2):
        CrosswalkLink.objects.create(object="project", system="crm", external_id=f"P{n}", canonical_id=f"prj-{n}")
    shape = {**GATHERING_FLOW["steps"][0]}
    shape["fields"] = [
        *shape["fields"][:1],
        {"to": "project", "from": "$.project", "required": True, "crosswalk": {"object": "project", "system": "crm"}},
        *shape["fields"][2:],
    ]
    flow = {
        **GATHERING_FLOW,
        "for_each": {"path": "$.entries", "chunk_size": 100},
        "steps": [shape, *GATHERING_FLOW["steps"][1:]],
    }
    publish_flow(personas["analyst"], flow, key="linked")
    queries = []
    for n, size in enumerate((4, 40)):
        run = execute_run(page("time.page", "entries", entries(size), external_id=f"p{n}").pk)
        chunk = RunChunk.objects.get(run=run)
        with CaptureQueriesContext(connection) as captured:
            chunks.execute(chunk.pk)
        queries.append(len(captured))
        assert RunChunk.objects.get(pk=chunk.pk).succeeded == size
    assert queries[0] == queries[1], queries  # 40 records cost what 4 do: two links, read once each


def test_the_groups_of_a_poll_read_to_the_end_flush_without_waiting(gathering):
    """A poll-triggered flow's groups flush as soon as its poll has read its last page and no
    page run is still filing: not while the poll holds a paging cursor, nor while a page run
    is queued."""
    mark = Watermark.objects.create(
        flow=gathering, connection=Connection.objects.get(name="crm"), object="entries", cursor="page-2"
    )
    run_page(entries(4), "page-1")  # P0: T0 T2, P1: T1 T3 — no group full
    assert accumulate.flush_due() == 0  # the poll is mid-way: page 2 may bring more of P0 and P1
    mark.cursor = ""
    mark.save()
    queued = page("time.page", "entries", entries(1), external_id="page-2")  # read, not yet run
    assert accumulate.flush_due() == 0
    run_all_chunks(execute_run(queued.pk))
    execute_run(queued.pk)
    assert accumulate.flush_due() == 2  # the poll is read and filed: no max wait
    carrier = Run.objects.get(trigger="schedule")
    assert carrier.output["reason"] == "poll read to the end"
    assert postings(carrier) == [("P0", ["T0", "T2"]), ("P1", ["T1", "T3"])]
