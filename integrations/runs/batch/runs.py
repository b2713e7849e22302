"""Batch runs (flow definition `for_each`): one run over the many records of its input.

The run row goes through these phases, each one claim of the run (services.claim, fenced):
1. split: the list at `for_each.path` becomes RunChunk rows (one bulk_create, in the same
   transaction as the fenced `running → waiting-chunks` update, so it happens once);
2. the chunks run on the workers (chunks.py); the last one to finish queues the run again
   (completion.py, a conditional update: exactly once);
3. finish: counters summed; with a `batch` step, the records the chunks filed by group key
   are cut into groups of at most `size` and the steps after the batch step run once per
   group (deliveries requested in bulk); then the run waits for its deliveries;
4. the last delivery to end finishes the run (conditional update again): `succeeded`, or
   `failed` when any record, group or delivery failed — each of those is an exception of
   its own (`item` = "record:<n>", "group:<key>", "delivery:<id>") a person can retry,
   edit and resubmit, or skip, without touching the rest of the run."""

from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from integrations import leases
from integrations.flows import engine_api
from integrations.runs import doorbell, outcomes
from integrations.runs.batch import accumulate, chunks, held
from integrations.runs.batch.completion import complete_if_done, finish_if_delivered
from integrations.runs.batch.pieces import run_pieces
from integrations.runs.batch.records import Results, batch_step_of, write_results
from integrations.runs.choices import ExceptionStatus, RunStatus
from integrations.runs.inbox.opening import open_for_delivery
from integrations.runs.models import Run, RunChunk, RunException
from integrations.runs.outcomes import StaleFence


def execute(run: Run) -> Run | None:
    """A claimed batch run: split it the first time, finish it once its chunks are done."""
    try:
        return finish(run) if run.chunked else split(run)
    except StaleFence:
        return None
    except leases.DATABASE_ERRORS:
        raise  # not the run's fault: the task gives the run back (leases.holding)
    except Exception as exc:  # a bug must become an exception, not a lost run
        return outcomes.crash(run, exc)


def split(run: Run) -> Run:
    definition = run.flow_version.definition
    try:
        records = engine_api.records_of(definition, run.record)
    except ValueError as exc:
        err = SimpleNamespace(step_id="", kind="mapping", message=str(exc), field="for_each.path", classification="")
        with transaction.atomic():
            outcomes.fail(run, err, None, timezone.now())
        return run
    rows = chunks.build(run, records, engine_api.chunk_size(definition))
    with transaction.atomic():
        outcomes.guarded(
            run,
            status=RunStatus.WAITING_CHUNKS,
            chunked=True,
            lease_until=None,
            output={"records": len(records), "chunks": len(rows)},
        )
        RunChunk.objects.bulk_create(rows, batch_size=100)
        doorbell.enqueue_chunks_on_commit(RunChunk.objects.filter(run=run).values_list("pk", flat=True))
    complete_if_done(run.pk)  # no records: nothing to wait for
    return run


def finish(run: Run) -> Run:
    totals = RunChunk.objects.filter(run=run).values("succeeded", "failed", "skipped")
    counters = {**(run.output or {}), "succeeded": 0, "failed": 0, "skipped": 0}
    for row in totals:
        for name in ("succeeded", "failed", "skipped"):
            counters[name] += row[name]
    plan = engine_api.plan_for(run.flow_version)
    step = batch_step_of(plan)
    if step is not None and step.spec.item_key is not None:
        return finish_into_open_groups(run, plan, step, counters)
    result = run_groups(run, plan, step) if step is not None else Results()
    if step is not None:
        counters.update(group_counters(result))
    with transaction.atomic():
        outcomes.guarded(run, status=RunStatus.WAITING_DELIVERY, output=counters, lease_until=None, state=None)
        write_results(run, result, attempt=run.attempts, scope={"phase": "groups"})
    finish_if_delivered(run.pk)
    return run


def finish_into_open_groups(run: Run, plan, step, counters: dict) -> Run:
    """A batch step with an `item_key`: the run files its records in the flow's open groups
    and runs the steps after the batch step only for the groups it fills, all inside its
    fenced transaction (a stale finisher files nothing and flushes nothing)."""
    merged = merged_groups(run)
    with transaction.atomic():
        outcomes.guarded(run, status=RunStatus.WAITING_DELIVERY, output=counters, lease_until=None, state=None)
        filing = accumulate.file_records(run, step, merged)
        result = run_pieces(plan, step, filing.pieces)
        counters.update(group_counters(result), filed=filing.filed, already_filed=filing.already_filed)
        Run.objects.filter(pk=run.pk).update(output=counters)
        run.output = counters
        write_results(run, result, attempt=run.attempts, scope={"phase": "groups"})
    finish_if_delivered(run.pk)
    return run


def group_counters(result: Results) -> dict:
    return {"groups": result.succeeded + result.skipped + len(result.failures), "groups_failed": len(result.failures)}


def merged_groups(run: Run) -> dict:
    """{group key: records} the run's chunks filed at the batch step, in chunk order."""
    merged: dict = {}
    for groups in RunChunk.objects.filter(run=run).order_by("index").values_list("groups", flat=True):
        for key, records in (groups or {}).items():
            merged.setdefault(key, []).extend(records)
    return merged


def run_groups(run: Run, plan, step) -> Results:
    """The steps after the batch step, once per group of at most `size` records."""
    pieces, size = [], step.spec.size
    for key, records in merged_groups(run).items():
        for start in range(0, len(records), size):
            label = key if len(records) <= size else f"{key}#{start // size + 1}"
            pieces.append(
                (
                    label,
                    {"group_key": key, "batch_id": f"run-{run.pk}:{label}", "records": records[start : start + size]},
                )
            )
    return run_pieces(plan, step, pieces)


def on_delivery_finished(run: Run, delivery) -> None:
    """A delivery of a batch run ended: resolve or (re)open its own exception, then see
    whether the run is done. Never touches the run's other records."""
    with transaction.atomic():
        if str(delivery.state).upper() == "SUCCEEDED":
            held.release_after(delivery.idempotency_key)  # the writes held for it: the run waits for them too
            RunException.objects.filter(run=run, delivery_id=delivery.pk, status=ExceptionStatus.RETRYING).update(
                status=ExceptionStatus.RESOLVED, resolved_at=timezone.now(), resolution_reason="re-sent and delivered"
            )
        elif not RunException.objects.filter(
            run=run, item=f"delivery:{delivery.pk}", status__in=[ExceptionStatus.OPEN, ExceptionStatus.ASSIGNED]
        ).exists():
            open_for_delivery(run, delivery, item=f"delivery:{delivery.pk}")
    finish_if_delivered(run.pk)
