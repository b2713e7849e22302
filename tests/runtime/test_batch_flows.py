"""Batch flows (`for_each`): one run over a page of records, split once into chunks that are
claimed and fenced like runs; per-record failures become exceptions of their own while the
other records go on; deliveries are requested in bulk and never twice; completion fires once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations import leases
from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_chunk
from integrations.events.services import ingest_event
from integrations.flows.engine_api import validate_definition
from integrations.runs.batch import chunks, completion, records
from integrations.runs.batch import runs as batch_runs
from integrations.runs.inbox import actions as exceptions
from integrations.runs.inbox.resubmit import resubmit
from integrations.runs.models import Run, RunChunk, RunException, StepRun
from integrations.runs.resume import on_delivery_finished
from integrations.runs.services import claim, execute_run
from tests.runtime.conftest import INVOICE_FLOW, publish_flow

pytestmark = pytest.mark.django_db

BILLING_FLOW = {
    "trigger": {"type": "event", "connection": "crm", "event": "time.page"},
    "for_each": {"path": "$.entries", "chunk_size": 4},
    "steps": [
        {
            "id": "shape",
            "type": "map",
            "fields": [
                {"to": "entry", "from": "$.id", "required": True},
                {"to": "project", "from": "$.project", "required": True},
                {"to": "hours", "from": "$.hours", "required": True},
            ],
        },
        {"id": "collect", "type": "batch", "group_key": "{{ record.project }}", "size": 3, "max_wait_seconds": 60},
        {
            "id": "bill",
            "type": "deliver",
            "connection": "erp",
            "object": "postings",
            "action": "create",
            "key": "bill:{{ record.batch_id }}",
            "external_id_field": "external_ref",
        },
    ],
}

# The one-record invoice flow (tests/runtime/conftest.py) over a page, without its constant field.
INVOICE_PAGE_FLOW = {
    "trigger": {"type": "event", "connection": "crm", "event": "invoice.page"},
    "for_each": {"path": "$.invoices", "chunk_size": 2},
    "steps": [
        {**INVOICE_FLOW["steps"][0], "fields": INVOICE_FLOW["steps"][0]["fields"][:2]},
        INVOICE_FLOW["steps"][1],
    ],
}


@pytest.fixture
def bells(doorbells, monkeypatch):
    """Chunk ids the runtime would have enqueued, next to the run and delivery doorbells."""
    doorbells["chunks"] = []
    monkeypatch.setattr("integrations.runs.doorbell.enqueue_chunks", lambda ids: doorbells["chunks"].extend(ids))
    return doorbells


@pytest.fixture
def billing(personas, crm, erp_offline, bells):
    return publish_flow(personas["analyst"], BILLING_FLOW, key="billing")


def entries(n, missing_hours=()):
    out = []
    for i in range(n):
        entry = {"id": f"T{i}", "project": f"P{i % 2}", "hours": i + 1}
        if i in missing_hours:
            del entry["hours"]
        out.append(entry)
    return out


def page(event_type, key, records, external_id="page-1"):
    return ingest_event(source="crm", type=event_type, external_id=external_id, payload={key: records}).runs[0]


def run_all_chunks(run):
    for chunk_id in RunChunk.objects.filter(run=run).order_by("index").values_list("pk", flat=True):
        chunks.execute(chunk_id)


def land_deliveries(run, state="SUCCEEDED"):
    """What the ledger does when it is done with each delivery."""
    for delivery in Delivery.objects.filter(run=run):
        Delivery.objects.filter(pk=delivery.pk).update(state=state, last_error="refused" if state == "DEAD" else "")
        on_delivery_finished(delivery.pk)


def test_for_each_is_validated_naming_the_field():
    bad = {**BILLING_FLOW, "for_each": {"path": "entries", "chunk_size": 0}}
    fields = {e.field: e.message for e in validate_definition(bad)}
    assert "for_each.chunk_size" in fields and "for_each.path" in fields
    approve = {"id": "ok", "type": "approve", "approvers": {"group": "Approver"}}
    errors = validate_definition({**BILLING_FLOW, "steps": [*BILLING_FLOW["steps"], approve]})
    assert [(e.step_id, e.field) for e in errors] == [("ok", "steps[3].type")]
    assert "for_each" in errors[0].message
    assert validate_definition(BILLING_FLOW) == []


def test_a_page_is_split_once_into_chunks_and_a_stale_split_writes_nothing(
    billing, bells, django_capture_on_commit_callbacks
):
    run = page("time.page", "entries", entries(10))
    stale = claim(run.pk)
    Run.objects.filter(pk=run.pk).update(status="queued")  # the lease ran out; someone else claims it
    fresh = claim(run.pk)
    assert batch_runs.execute(stale) is None
    assert not RunChunk.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert batch_runs.execute(fresh).status == "waiting-chunks"
    sizes = list(RunChunk.objects.filter(run=run).order_by("index").values_list("first", "records"))
    assert [(first, len(records)) for first, records in sizes] == [(0, 4), (4, 4), (8, 2)]
    assert sorted(bells["chunks"]) == sorted(RunChunk.objects.values_list("pk", flat=True))
    assert execute_run(run.pk) is None  # not queued: a second message does nothing


def test_records_run_in_chunks_group_by_project_and_post_once_per_group(
    billing, bells, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = execute_run(page("time.page", "entries", entries(10)).pk)
        run_all_chunks(run)
    run.refresh_from_db()
    assert run.status == "queued" and bells["runs"].count(run.pk) == 2  # created, then completed: once
    assert completion.complete_if_done(run.pk) is False
    run = execute_run(run.pk)
    assert run.status == "waiting-delivery"
    payloads = sorted((d.payload["group_key"], d.payload["count"]) for d in Delivery.objects.filter(run=run))
    assert payloads == [("P0", 2), ("P0", 3), ("P1", 2), ("P1", 3)]
    # one step row per step per chunk (and one per step for the group phase), never per record
    shape_rows = StepRun.objects.filter(run=run, step_id="shape")
    assert shape_rows.count() == 3 and sum(r.output["out"] for r in shape_rows) == 10
    assert StepRun.objects.filter(run=run, step_id="bill").get().output == {
        "in": 4,
        "out": 4,
        "failed": 0,
        "skipped": 0,
    }
    land_deliveries(run)
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert {k: run.output[k] for k in ("records", "succeeded", "failed", "groups", "deliveries")} == {
        "records": 10,
        "succeeded": 10,
        "failed": 0,
        "groups": 4,
        "deliveries": 4,
    }


def test_failed_records_become_exceptions_while_the_others_go_on(billing, bells):
    run = execute_run(page("time.page", "entries", entries(10, missing_hours={2, 7})).pk)
    run_all_chunks(run)
    execute_run(run.pk)
    failed = RunException.objects.filter(run=run).order_by("item")
    assert [(e.item, e.step_id, e.kind, e.field) for e in failed] == [
        ("record:2", "shape", "mapping", "hours"),
        ("record:7", "shape", "mapping", "hours"),
    ]
    assert failed[0].original_input == {"id": "T2", "project": "P0"}
    assert sum(d.payload["count"] for d in Delivery.objects.filter(run=run)) == 8
    land_deliveries(run)
    run.refresh_from_db()
    assert run.status == "failed" and (run.output["succeeded"], run.output["failed"]) == (8, 2)


def test_a_chunk_executed_twice_writes_nothing_twice(billing, bells):
    run = execute_run(page("time.page", "entries", entries(8, missing_hours={1})).pk)
    first = RunChunk.objects.get(run=run, index=0)
    lost = chunks.claim(first.pk)
    lost_result = records.run_records(run, lost.records, positions=lost.record_positions())
    later = timezone.now() + timedelta(seconds=3600)
    assert chunks.sweep_expired(now=later) == 1  # the worker was lost: back to the queue
    assert chunks.execute(first.pk).status == "running"  # the instance as claimed; now committed
    assert chunks._commit(lost, lost_result, 1.0) is False  # the late finisher holds an old fence
    assert chunks.execute(first.pk) is None
    assert StepRun.objects.filter(run=run, step_id="shape").count() == 1
    assert RunException.objects.filter(run=run).count() == 1
    assert RunChunk.objects.get(pk=first.pk).worker_losses == 1


def lose(chunk_id):
    """A worker claims the chunk and dies (the effect killed its process): its lease runs out."""
    assert chunks.claim(chunk_id) is not None
    chunks.sweep_expired(now=timezone.now() + timedelta(seconds=3600))


def test_a_poison_record_is_bisected_down_and_alone_becomes_a_worker_lost_exception(billing, bells):
    run = execute_run(page("time.page", "entries", entries(8)).pk)
    poison = "T5"  # whichever chunk holds it, the worker running it dies
    executions = 0
    while queued := list(RunChunk.objects.filter(run=run, status="queued").order_by("index")):
        for chunk in queued:
            executions += len(chunk.records)
            if any(r["id"] == poison for r in chunk.records):
                lose(chunk.pk)
            else:
                chunks.execute(chunk.pk)
    rows = RunChunk.objects.filter(run=run).order_by("index")
    assert [(c.status, [r["id"] for r in c.records]) for c in rows if c.status != "done"] == [
        ("split", ["T4", "T5", "T6", "T7"]),  # lost twice: split in halves
        ("split", ["T4", "T5"]),  # a half lost once more splits at once
        ("failed", ["T5"]),  # alone, it is lost up to the cap
    ]
    assert rows.get(status="failed").worker_losses == leases.MAX_WORKER_LOSSES
    assert executions <= 8 + 4 * 2 + 2 + 1 * 2  # each record runs O(log n) times, not in a loop
    lost = RunException.objects.get(run=run)
    assert (lost.item, lost.classification, lost.kind) == ("record:5", "worker_lost", "worker_lost")
    assert lost.original_input == {"id": "T5", "project": "P1", "hours": 6}
    run.refresh_from_db()
    assert run.status == "queued"  # every chunk is terminal: the completion check fired
    run = execute_run(run.pk)
    assert (run.output["succeeded"], run.output["failed"]) == (7, 1)
    # every other record is delivered: P0 has T0 T2 T4 T6, P1 has T1 T3 T7
    assert sorted(d.payload["count"] for d in Delivery.objects.filter(run=run)) == [1, 3, 3]


def test_a_split_is_fenced_a_late_sweep_or_finisher_of_the_lost_chunk_writes_nothing(
    billing, bells, django_capture_on_commit_callbacks
):
    run = execute_run(page("time.page", "entries", entries(8)).pk)
    second = RunChunk.objects.get(run=run, index=1)
    lose(second.pk)
    late = chunks.claim(second.pk)
    late_result = records.run_records(run, late.records, positions=late.record_positions())
    later = timezone.now() + timedelta(seconds=3600)
    with django_capture_on_commit_callbacks(execute=True):
        assert chunks._recover(late, later) == 1  # lost a second time: split
    assert chunks._recover(late, later) == 0  # the same expired lease seen twice splits once
    assert chunks._commit(late, late_result, 1.0) is False  # the lost worker finishing late
    halves = RunChunk.objects.filter(run=run, index__gt=1).order_by("index")
    assert [(h.first, len(h.records), h.status) for h in halves] == [(4, 2, "queued"), (6, 2, "queued")]
    assert not StepRun.objects.filter(run=run).exists() and not RunException.objects.exists()
    assert set(bells["chunks"]) == {h.pk for h in halves}  # the halves are rung at once


def test_re_requesting_deliveries_never_makes_a_second_row(personas, crm, erp_offline, bells):
    from integrations.deliveries import services as ledger

    publish_flow(personas["analyst"], INVOICE_PAGE_FLOW, key="invoice-pages")
    invoices = [{"id": f"INV-{i}", "amount": i} for i in range(5)] + [{"id": "INV-0", "amount": 0}]
    run = execute_run(page("invoice.page", "invoices", invoices).pk)
    chunk = RunChunk.objects.get(run=run, index=0)
    result = records.run_records(run, chunk.records, positions=chunk.record_positions())
    chunks.execute(chunk.pk)
    assert (
        ledger.request_deliveries(run=run, connections=result.effects.connections, requests=result.effects.requests)
        == []
    )
    run_all_chunks(run)
    keys = list(Delivery.objects.filter(run=run).values_list("idempotency_key", flat=True))
    assert sorted(keys) == [f"invoice:INV-{i}" for i in range(5)]  # the repeated INV-0 is one delivery


def test_deliveries_of_a_batch_run_post_once_each_at_the_target(
    personas, crm, erp, sim, bells, django_capture_on_commit_callbacks
):
    publish_flow(personas["analyst"], INVOICE_PAGE_FLOW, key="invoice-pages")
    run = execute_run(page("invoice.page", "invoices", [{"id": f"INV-{i}", "amount": i} for i in range(5)]).pk)
    run_all_chunks(run)
    chunks.execute(RunChunk.objects.get(run=run, index=0).pk)  # a duplicate message: no-op
    execute_run(run.pk)
    ids = list(Delivery.objects.filter(run=run).values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        deliver_chunk(ids)
        deliver_chunk(ids)  # redelivered message: the ledger's claim makes it a no-op
    run.refresh_from_db()
    assert run.status == "succeeded" and run.output["deliveries"] == 5
    refs = sorted(p["external_ref"] for p in sim.postings())
    assert refs == [f"INV-{i}" for i in range(5)]


def test_a_failed_record_is_retried_and_resubmitted_as_a_run_of_its_own(personas, crm, erp_offline, bells):
    publish_flow(personas["analyst"], INVOICE_PAGE_FLOW, key="invoice-pages")
    invoices = [{"id": "INV-1", "amount": 1}, {"id": "INV-2"}, {"id": "INV-3", "amount": 3}]
    batch = execute_run(page("invoice.page", "invoices", invoices).pk)
    run_all_chunks(batch)
    execute_run(batch.pk)
    exc = RunException.objects.get(run=batch)
    operator = personas["operator"]
    exceptions.retry(exc, operator)  # unchanged: fails again and the same exception reopens
    retry = Run.objects.get(retry_of=batch)
    assert (retry.item, retry.input, retry.chunked) == ("record:1", {"id": "INV-2"}, False)
    assert execute_run(retry.pk).status == "failed"
    exc.refresh_from_db()
    assert exc.status == "open" and exc.duplicate_count == 2
    resubmit(exc, operator, {"id": "INV-2", "amount": 2})
    fixed = Run.objects.latest("id")  # retry_of the run that last failed this record
    assert (fixed.item, fixed.retry_of_id) == ("record:1", retry.pk)
    assert execute_run(fixed.pk).status == "waiting-delivery"
    delivery = Delivery.objects.get(run=fixed)
    assert delivery.idempotency_key == "invoice:INV-2" and delivery.payload["amount"] == 2
    land_deliveries(fixed)
    assert execute_run(fixed.pk).status == "succeeded"
    exc.refresh_from_db()
    assert exc.status == "resolved"
    land_deliveries(batch)
    batch.refresh_from_db()
    assert batch.status == "failed" and batch.output["failed"] == 1  # the run's own record of what happened


def test_skipping_a_record_leaves_the_batch_run_alone(billing, bells, personas):
    run = execute_run(page("time.page", "entries", entries(4, missing_hours={0})).pk)
    run_all_chunks(run)
    execute_run(run.pk)
    exceptions.skip(RunException.objects.get(run=run), personas["operator"], "not billable")
    run.refresh_from_db()
    assert run.status == "waiting-delivery"


def test_a_dead_group_delivery_is_an_exception_that_a_resend_resolves(billing, bells, personas):
    run = execute_run(page("time.page", "entries", entries(2)).pk)
    run_all_chunks(run)
    execute_run(run.pk)
    dead = Delivery.objects.filter(run=run).order_by("id").first()
    Delivery.objects.filter(pk=dead.pk).update(state="DEAD", last_error="cost centre unknown")
    on_delivery_finished(dead.pk)
    exc = RunException.objects.get(run=run)
    assert (exc.item, exc.delivery_id) == (f"delivery:{dead.pk}", dead.pk)
    other = Delivery.objects.filter(run=run).exclude(pk=dead.pk).get()
    Delivery.objects.filter(pk=other.pk).update(state="SUCCEEDED")
    on_delivery_finished(other.pk)
    run.refresh_from_db()
    assert run.status == "failed" and run.output["deliveries_dead"] == 1
    exceptions.retry(exc, personas["operator"])  # the ledger re-sends it; the run waits again
    run.refresh_from_db()
    assert run.status == "waiting-delivery" and Delivery.objects.get(pk=dead.pk).state == "PENDING"
    Delivery.objects.filter(pk=dead.pk).update(state="SUCCEEDED")
    on_delivery_finished(dead.pk)
    exc.refresh_from_db()
    run.refresh_from_db()
    assert exc.status == "resolved"
    assert run.status == "succeeded" and run.output["deliveries_dead"] == 0


def test_input_without_the_list_fails_the_run_naming_for_each_path(billing, bells):
    run = ingest_event(source="crm", type="time.page", external_id="p", payload={"rows": []}).runs[0]
    run = execute_run(run.pk)
    assert run.status == "failed"
    exc = RunException.objects.get(run=run)
    assert exc.field == "for_each.path" and "$.entries" in exc.message


def test_run_counters_are_readable_through_the_run_api(billing, bells, client_for):
    run = execute_run(page("time.page", "entries", entries(3, missing_hours={1})).pk)
    run_all_chunks(run)
    execute_run(run.pk)
    body = client_for("viewer").get(f"/api/v1/runs/{run.pk}/").json()
    assert body["status"] == "waiting-delivery" and body["chunked"] is True
    assert (body["output"]["records"], body["output"]["succeeded"], body["output"]["failed"]) == (3, 2, 1)
    [failed] = client_for("operator").get("/api/v1/exceptions/").json()["results"]
    assert (failed["run"], failed["item"]) == (run.pk, "record:1")  # which record of the page failed


def test_a_batch_flow_cannot_be_invoked_synchronously(billing, bells, personas):
    from rest_framework.authtoken.models import Token

    from tests.api.wsgi_client import WsgiClient

    key = Token.objects.get_or_create(user=personas["operator"])[0].key
    response = WsgiClient(HTTP_AUTHORIZATION=f"Token {key}").post(
        f"/api/v1/flows/{billing.key}/invoke", {"entries": entries(2)}
    )
    assert response.status_code == 409 and "event API" in response.json()["detail"]


def test_a_test_run_of_a_batch_flow_shows_the_first_record_of_a_sample_page(personas, bells):
    from integrations.flows.services import create_flow
    from integrations.flows.testing import test_run as dry_run

    flow = create_flow(personas["analyst"], key="pages", name="Pages", definition=INVOICE_PAGE_FLOW)
    result = dry_run(flow, personas["analyst"], {"invoices": [{"id": "INV-7", "amount": 7}, {"id": "INV-8"}]})
    assert result["for_each"] == {"records": 2, "shown": 0}
    assert result["status"] == "completed" and result["steps"][1]["output"]["key"] == "invoice:INV-7"
    one = dry_run(flow, personas["analyst"], {"id": "INV-9", "amount": 9})  # a single record works too
    assert one["status"] == "completed" and "for_each" not in one
    assert not Run.objects.exists()


def test_a_failed_group_is_an_exception_retried_from_the_batch_step(personas, crm, erp_offline, bells):
    flow = {**BILLING_FLOW, "steps": [*BILLING_FLOW["steps"]]}
    too_big = {"when": "record.count > 2", "message": "at most two lines per bill", "field": "count"}
    flow["steps"].insert(2, {"id": "limit", "type": "validate", "rules": [too_big]})
    flow["steps"].insert(2, BILLING_FLOW["steps"][1])
    del flow["steps"][1]  # order: shape, collect, limit, bill
    assert [s["id"] for s in flow["steps"]] == ["shape", "collect", "limit", "bill"]
    publish_flow(personas["analyst"], flow, key="billing")
    run = execute_run(page("time.page", "entries", entries(4)).pk)  # P0: T0, T2; P1: T1, T3
    run_all_chunks(run)
    execute_run(run.pk)
    assert Delivery.objects.filter(run=run).count() == 2  # both groups of two are billed
    run = execute_run(page("time.page", "entries", entries(6), external_id="page-2").pk)
    run_all_chunks(run)
    run = execute_run(run.pk)
    failed = RunException.objects.filter(run=run).order_by("item")
    assert [(e.item, e.step_id, e.field) for e in failed] == [
        ("group:P0", "limit", "count"),
        ("group:P1", "limit", "count"),
    ]
    assert run.output["groups_failed"] == 2 and failed[0].original_input["count"] == 3
    group = failed[0]
    fixed = {**group.original_input, "records": group.original_input["records"][:2]}
    resubmit(group, personas["operator"], fixed)
    retry = Run.objects.latest("id")
    assert (retry.item, retry.start_at, retry.resume["step_id"]) == ("group:P0", "collect", "collect")
    assert execute_run(retry.pk).status == "waiting-delivery"
    assert Delivery.objects.get(run=retry).payload["count"] == 2


def test_a_chunk_that_crashes_fails_at_once_with_its_records_as_exceptions(billing, bells, monkeypatch):
    run = execute_run(page("time.page", "entries", entries(6)).pk)

    def crash(run, records, **kwargs):
        raise RuntimeError("bug in an effect")

    monkeypatch.setattr(records, "run_records", crash)
    chunks.execute(RunChunk.objects.get(run=run, index=1).pk)
    failed = RunChunk.objects.get(run=run, index=1)
    assert (failed.status, failed.failed, failed.worker_losses) == ("failed", 2, 0)
    lost = RunException.objects.filter(run=run).order_by("item")
    assert [(e.item, e.kind, e.classification) for e in lost] == [
        ("record:4", "internal", "permanent"),
        ("record:5", "internal", "permanent"),
    ]
    assert "bug in an effect" in lost[0].message


def lookup_flow(personas, chunk_size=4):
    account = {"id": "account", "type": "lookup", "connection": "crm-api", "object": "accounts",
               "when": "record.account is defined", "by": {"id": "{{ record.account }}"}}  # fmt: skip
    flow = {
        **INVOICE_PAGE_FLOW,
        "for_each": {"path": "$.invoices", "chunk_size": chunk_size},
        "steps": [account, *INVOICE_PAGE_FLOW["steps"]],
    }
    return publish_flow(personas["analyst"], flow, key="invoice-pages")


def refused_crm_api(settings):
    from integrations.connections.models import Connection

    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = ["http://127.0.0.1:9"]
    config = {"auth_type": "none", "objects": {"accounts": {"path": "/accounts"}}}
    Connection.objects.create(name="crm-api", kind="generic_rest", base_url="http://127.0.0.1:9", config=config)


def run_due_chunks(run):
    """What the dispatcher and workers do over time: every queued chunk, made due, executed."""
    while queued := list(RunChunk.objects.filter(run=run, status="queued").values_list("pk", flat=True)):
        RunChunk.objects.filter(pk__in=queued).update(next_attempt_at=timezone.now())
        for chunk_id in queued:
            chunks.execute(chunk_id)


def test_a_transient_lookup_failure_retries_its_records_with_backoff_then_fails_only_them(
    personas, crm, erp_offline, bells, settings
):
    refused_crm_api(settings)  # connection refused: transient on every try
    lookup_flow(personas)
    invoices = [{"id": "INV-1", "amount": 1, "account": "A1"}, {"id": "INV-2", "amount": 2},
                {"id": "INV-3", "amount": 3, "account": "A3"}]  # fmt: skip
    run = execute_run(page("invoice.page", "invoices", invoices).pk)
    run_all_chunks(run)
    assert not RunException.objects.exists()  # not yet: retried later
    first = RunChunk.objects.get(run=run, index=0)
    assert (first.status, [r["id"] for r in first.records], first.succeeded, first.failed) == ("done", ["INV-2"], 1, 0)
    retry = RunChunk.objects.get(run=run, index=1)
    assert (retry.status, retry.retries, retry.positions) == ("queued", 1, [0, 2])
    assert retry.next_attempt_at > first.finished_at  # a backoff, and no doorbell until it is due
    assert retry.pk not in bells["chunks"] and chunks.execute(retry.pk) is None
    assert chunks.dispatch_due(now=retry.next_attempt_at - timedelta(milliseconds=1)) == 0
    assert chunks.dispatch_due(now=retry.next_attempt_at) == 1 and retry.pk in bells["chunks"]
    assert Run.objects.get(pk=run.pk).status == "waiting-chunks"  # a chunk is pending
    run_due_chunks(run)
    tries = list(RunChunk.objects.filter(run=run).order_by("index").values_list("retries", flat=True))
    assert tries == [0, 1, 2, 3, 4]  # five tries, as for a one-record run, then exceptions
    failed = RunException.objects.filter(run=run).order_by("item")
    assert [(e.item, e.step_id, e.classification) for e in failed] == [
        ("record:0", "account", "transient"),
        ("record:2", "account", "transient"),
    ]
    assert failed[1].original_input == invoices[2]
    assert Run.objects.get(pk=run.pk).status == "queued"  # completion fired once every chunk was done
    run = execute_run(run.pk)
    assert (run.output["succeeded"], run.output["failed"]) == (1, 2)
    assert list(Delivery.objects.filter(run=run).values_list("idempotency_key", flat=True)) == ["invoice:INV-2"]


def test_a_record_whose_lookup_recovers_is_delivered_after_honouring_retry_after(
    personas, crm, erp_offline, bells, settings, monkeypatch
):
    from integrations.connectors.errors import ConnectorError
    from integrations.engine.errors import EffectError
    from integrations.runs.effects import RuntimeEffects

    refused_crm_api(settings)
    lookup_flow(personas, chunk_size=2)
    throttled = {"A1": 1, "A3": 2}  # throttled this many times, then found

    def lookup(self, step, request):
        account = request["by"]["id"]
        if throttled.get(account):
            throttled[account] -= 1
            cause = ConnectorError(
                "throttled", kind="transient", status_code=429, retry_after=120 if account == "A3" else None
            )
            raise EffectError(cause.message, transient=True) from cause
        return {"id": account}

    monkeypatch.setattr(RuntimeEffects, "lookup", lookup)
    invoices = [{"id": f"INV-{n}", "amount": n, "account": f"A{n}"} for n in range(1, 5)]
    run = execute_run(page("invoice.page", "invoices", invoices).pk)
    before = timezone.now()
    run_all_chunks(run)
    [retry_a1] = RunChunk.objects.filter(run=run, retries=1, first=0)
    [retry_a3] = RunChunk.objects.filter(run=run, retries=1, first=2)
    assert retry_a3.next_attempt_at >= before + timedelta(seconds=120)  # the target's Retry-After
    assert retry_a1.next_attempt_at < before + timedelta(seconds=60)  # backoff alone: 0-10 s on the first try
    run_due_chunks(run)
    assert not RunException.objects.filter(run=run).exists()
    run = execute_run(run.pk)
    assert (run.output["succeeded"], run.output["failed"]) == (4, 0)
    keys = sorted(Delivery.objects.filter(run=run).values_list("idempotency_key", flat=True))
    assert keys == ["invoice:INV-1", "invoice:INV-2", "invoice:INV-3", "invoice:INV-4"]


def test_a_chunk_out_of_time_hands_its_other_records_on_as_a_new_chunk(billing, bells, settings):
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 0  # every chunk runs one record, then hands the rest on
    run = execute_run(page("time.page", "entries", entries(6)).pk)
    first = RunChunk.objects.get(run=run, index=0)
    chunks.execute(first.pk)
    first.refresh_from_db()
    rest = RunChunk.objects.get(run=run, index=2)
    assert (first.status, len(first.records), first.succeeded) == ("done", 1, 1)
    assert (rest.status, rest.first, [r["id"] for r in rest.records]) == ("queued", 1, ["T1", "T2", "T3"])
    while queued := list(RunChunk.objects.filter(run=run, status="queued").values_list("pk", flat=True)):
        for chunk_id in queued:
            chunks.execute(chunk_id)
    assert RunChunk.objects.filter(run=run).count() == 6
    run = execute_run(run.pk)
    assert (run.output["succeeded"], run.output["failed"]) == (6, 0)
    assert sorted(d.payload["count"] for d in Delivery.objects.filter(run=run)) == [3, 3]


def test_a_replay_preview_of_a_page_shows_the_group_postings_its_run_would_request(billing, bells):
    from integrations.events.models import Event
    from integrations.runs.preview import preview_replay

    run = page("time.page", "entries", entries(10, missing_hours={3}))
    [row] = preview_replay(Event.objects.filter(pk=run.event_id))
    assert (row["records"], row["groups"], row["status"]) == (10, 2, "failed")
    assert "1 of the page's records" in row["error"]
    # P0: 5 records → groups of 3 and 2; P1: 4 records (T3 fails its mapping) → 3 and 1
    assert sorted(d["payload"]["count"] for d in row["deliveries"]) == [1, 2, 3, 3]
    assert all(d["would_post"] for d in row["deliveries"])
    assert not Delivery.objects.exists() and not RunChunk.objects.exists()  # a preview writes nothing
