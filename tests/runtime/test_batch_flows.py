"""Batch flows (`for_each`): one run over a page of records, split once into chunks that are
claimed and fenced like runs; per-record failures become exceptions of their own while the
other records go on; deliveries are requested in bulk and never twice; completion fires once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_chunk
from integrations.events.services import ingest_event
from integrations.flows.engine_api import validate_definition
from integrations.runs import batch_runs, chunks, exceptions
from integrations.runs.models import Run, RunChunk, RunException, StepRun
from integrations.runs.resubmit import resubmit
from integrations.runs.services import claim, execute_run, on_delivery_finished
from tests.runtime.conftest import publish_flow

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

INVOICE_PAGE_FLOW = {
    "trigger": {"type": "event", "connection": "crm", "event": "invoice.page"},
    "for_each": {"path": "$.invoices", "chunk_size": 2},
    "steps": [
        {
            "id": "shape",
            "type": "map",
            "fields": [
                {"to": "external_ref", "from": "$.id", "required": True},
                {"to": "amount", "from": "$.amount", "required": True},
            ],
        },
        {
            "id": "post",
            "type": "deliver",
            "connection": "erp",
            "object": "postings",
            "action": "create",
            "key": "invoice:{{ record.external_ref }}",
            "external_id_field": "external_ref",
            "external_id": "{{ record.external_ref }}",
        },
    ],
}


@pytest.fixture
def bells(doorbells, monkeypatch):
    """Chunk ids the runtime would have enqueued, next to the run and delivery doorbells."""
    doorbells["chunks"] = []
    monkeypatch.setattr("integrations.runs.chunks.enqueue", lambda ids: doorbells["chunks"].extend(ids))
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
    assert chunks.complete_if_done(run.pk) is False
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
    lost_result = batch_runs.run_records(run, lost.records, first=lost.first)
    later = timezone.now() + timedelta(seconds=3600)
    assert chunks.sweep_expired(now=later) == 1  # the worker was lost: back to the queue
    assert chunks.execute(first.pk).status == "running"  # the instance as claimed; now committed
    assert chunks._commit(lost, lost_result, 1.0) is False  # the late finisher holds an old fence
    assert chunks.execute(first.pk) is None
    assert StepRun.objects.filter(run=run, step_id="shape").count() == 1
    assert RunException.objects.filter(run=run).count() == 1
    assert RunChunk.objects.get(pk=first.pk).worker_losses == 1


def test_a_chunk_lost_three_times_fails_with_an_exception_per_record(billing, bells):
    run = execute_run(page("time.page", "entries", entries(6)).pk)
    second = RunChunk.objects.get(run=run, index=1)
    for _loss in range(3):
        chunks.claim(second.pk)
        chunks.sweep_expired(now=timezone.now() + timedelta(seconds=3600))
    second.refresh_from_db()
    assert (second.status, second.worker_losses) == ("failed", 3)
    lost = RunException.objects.filter(run=run, classification="worker_lost").order_by("item")
    assert [e.item for e in lost] == ["record:4", "record:5"]
    chunks.execute(RunChunk.objects.get(run=run, index=0).pk)
    run.refresh_from_db()
    assert run.status == "queued"  # both chunks terminal: the run goes on to its groups


def test_re_requesting_deliveries_never_makes_a_second_row(personas, crm, erp_offline, bells):
    from integrations.deliveries import services as ledger

    publish_flow(personas["analyst"], INVOICE_PAGE_FLOW, key="invoice-pages")
    invoices = [{"id": f"INV-{i}", "amount": i} for i in range(5)] + [{"id": "INV-0", "amount": 0}]
    run = execute_run(page("invoice.page", "invoices", invoices).pk)
    chunk = RunChunk.objects.get(run=run, index=0)
    result = batch_runs.run_records(run, chunk.records, first=0)
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

    def crash(run, records, first, budget=None):
        raise RuntimeError("bug in an effect")

    monkeypatch.setattr(batch_runs, "run_records", crash)
    chunks.execute(RunChunk.objects.get(run=run, index=1).pk)
    failed = RunChunk.objects.get(run=run, index=1)
    assert (failed.status, failed.failed, failed.worker_losses) == ("failed", 2, 0)
    lost = RunException.objects.filter(run=run).order_by("item")
    assert [(e.item, e.kind, e.classification) for e in lost] == [
        ("record:4", "internal", "permanent"),
        ("record:5", "internal", "permanent"),
    ]
    assert "bug in an effect" in lost[0].message


def test_a_lookup_that_fails_in_a_batch_flow_fails_only_its_record(personas, crm, erp_offline, bells, settings):
    from integrations.connections.models import Connection

    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = ["http://127.0.0.1:9"]
    config = {"auth_type": "none", "objects": {"accounts": {"path": "/accounts"}}}
    Connection.objects.create(name="crm-api", kind="generic_rest", base_url="http://127.0.0.1:9", config=config)
    account = {"id": "account", "type": "lookup", "connection": "crm-api", "object": "accounts",
               "when": "record.account is defined", "by": {"id": "{{ record.account }}"}}  # fmt: skip
    flow = {**INVOICE_PAGE_FLOW, "steps": [account, *INVOICE_PAGE_FLOW["steps"]]}
    publish_flow(personas["analyst"], flow, key="invoice-pages")
    invoices = [{"id": "INV-1", "amount": 1}, {"id": "INV-2", "amount": 2, "account": "A1"}]
    run = execute_run(page("invoice.page", "invoices", invoices).pk)
    run_all_chunks(run)
    exc = RunException.objects.get(run=run)  # connection refused: a transient failure of that record only
    assert (exc.item, exc.step_id, exc.classification) == ("record:1", "account", "transient")
    assert list(Delivery.objects.filter(run=run).values_list("idempotency_key", flat=True)) == ["invoice:INV-1"]


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
