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

import hashlib
from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from integrations import leases
from integrations.flows import engine_api
from integrations.flows.outcome_json import error_dict
from integrations.runs import doorbell, outcomes
from integrations.runs.batch import chunks
from integrations.runs.batch.completion import complete_if_done, finish_if_delivered
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
    result = run_groups(run, plan, step) if step is not None else Results()
    if step is not None:
        counters["groups"] = result.succeeded + result.skipped + len(result.failures)
        counters["groups_failed"] = len(result.failures)
    with transaction.atomic():
        outcomes.guarded(run, status=RunStatus.WAITING_DELIVERY, output=counters, lease_until=None, state=None)
        write_results(run, result, attempt=run.attempts, scope={"phase": "groups"})
    finish_if_delivered(run.pk)
    return run


def run_groups(run: Run, plan, step) -> Results:
    """The steps after the batch step, once per group of at most `size` records."""
    merged: dict = {}
    for groups in RunChunk.objects.filter(run=run).order_by("index").values_list("groups", flat=True):
        for key, records in (groups or {}).items():
            merged.setdefault(key, []).extend(records)
    result, size = Results(), step.spec.size
    for key, records in merged.items():
        for start in range(0, len(records), size):
            label = key if len(records) <= size else f"{key}#{start // size + 1}"
            group = {"group_key": key, "batch_id": f"run-{run.pk}:{label}", "records": records[start : start + size]}
            outcome = engine_api.run(
                plan, {}, result.effects, start_at=step.id, resume={"step_id": step.id, "outcome": group}
            )
            result.tally.add(result.succeeded + result.skipped + len(result.failures), outcome.steps)
            if outcome.status == "completed":
                result.succeeded += 1
            elif outcome.status == "halted":
                result.skipped += 1
            else:
                error = error_dict(outcome.error) or {"kind": "internal", "message": f"stopped: {outcome.status}"}
                result.failures.append((group_item(label), {**group, "count": len(group["records"])}, error))
    return result


def group_item(label: str) -> str:
    """`group:<key>`, kept within the exception's 64-character `item` (long keys hashed)."""
    item = f"group:{label}"
    if len(item) <= 64:
        return item
    return f"group:{label[:40]}~{hashlib.sha256(label.encode()).hexdigest()[:16]}"


def on_delivery_finished(run: Run, delivery) -> None:
    """A delivery of a batch run ended: resolve or (re)open its own exception, then see
    whether the run is done. Never touches the run's other records."""
    with transaction.atomic():
        if str(delivery.state).upper() == "SUCCEEDED":
            RunException.objects.filter(run=run, delivery_id=delivery.pk, status=ExceptionStatus.RETRYING).update(
                status=ExceptionStatus.RESOLVED, resolved_at=timezone.now(), resolution_reason="re-sent and delivered"
            )
        elif not RunException.objects.filter(
            run=run, item=f"delivery:{delivery.pk}", status__in=[ExceptionStatus.OPEN, ExceptionStatus.ASSIGNED]
        ).exists():
            open_for_delivery(run, delivery, item=f"delivery:{delivery.pk}")
    finish_if_delivered(run.pk)
