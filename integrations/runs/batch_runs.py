"""Batch runs (flow definition `for_each`): one run over the many records of its input.

The run row goes through these phases, each one claim of the run (services.claim, fenced):
1. split: the list at `for_each.path` becomes RunChunk rows (one bulk_create, in the same
   transaction as the fenced `running → waiting-chunks` update, so it happens once);
2. the chunks run on the workers (integrations.runs.chunks); the last one to finish queues
   the run again (a conditional update: exactly once);
3. finish: counters summed; with a `batch` step, the records the chunks filed by group key
   are cut into groups of at most `size` and the steps after the batch step run once per
   group (deliveries requested in bulk); then the run waits for its deliveries;
4. the last delivery to end finishes the run (conditional update again): `succeeded`, or
   `failed` when any record, group or delivery failed — each of those is an exception of
   its own (`item` = "record:<n>", "group:<key>", "delivery:<id>") a person can retry,
   edit and resubmit, or skip, without touching the rest of the run."""

import hashlib
from dataclasses import dataclass, field
from time import monotonic
from types import SimpleNamespace

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from integrations.audit import services as audit
from integrations.engine.foreach import chunk_size, records_of
from integrations.flows import engine_api
from integrations.runs import chunks, outcomes
from integrations.runs.choices import Classification, ExceptionStatus, RunStatus
from integrations.runs.chunk_effects import ChunkEffects
from integrations.runs.chunk_summary import StepTally
from integrations.runs.models import Run, RunChunk, RunException, StepRun
from integrations.runs.outcomes import StaleFence, error_dict, jsonable

NOT_DONE = ("PENDING", "IN_FLIGHT", "FAILED_RETRYABLE")


@dataclass
class Results:
    """What running some records (a chunk, or the groups of a run) produced, not yet written."""

    succeeded: int = 0
    skipped: int = 0
    outputs: list = field(default_factory=list)
    groups: dict = field(default_factory=dict)  # group key -> records at the batch step
    failures: list = field(default_factory=list)  # (item, original input, error dict)
    tally: StepTally = field(default_factory=StepTally)
    effects: ChunkEffects = field(default_factory=ChunkEffects)
    done: int = 0  # records run; fewer than given when the time budget ran out
    retry: list = field(default_factory=list)  # offsets of the records that failed transiently, to run again
    retry_after: float | None = None  # the longest Retry-After among them


def chunk_budget_seconds() -> float:
    """How long one chunk may keep running records: half the task's soft time limit, so a
    chunk of slow lookups hands its rest on instead of being killed at the hard limit."""
    from django.conf import settings

    return float(getattr(settings, "CELERY_TASK_SOFT_TIME_LIMIT", 240)) / 2


def batch_step_of(plan):
    return next((s for s in plan.steps if s.type == "batch"), None)


def run_records(
    run: Run, records: list, *, positions: list[int], budget: float | None = None, retry_transient: bool = False
) -> Results:
    """The plan on each record, in memory; nothing is written here. `positions` are the
    records' places in the run's list (their exception items). With a `budget` (seconds) it
    stops after the record that used it up; `done` says how many records ran. With
    `retry_transient`, a record that failed transiently (a lookup's timeout, 503, 429) goes to
    `retry` to run again later instead of becoming an exception."""
    plan = engine_api.plan_for(run.flow_version)
    result = Results()
    started = monotonic()
    for offset, record in enumerate(records):
        if budget is not None and offset and monotonic() - started > budget:
            break
        result.done = offset + 1
        position = positions[offset]
        result.effects.retry_after = None
        try:
            outcome = engine_api.run(plan, record, result.effects)
        except Exception as exc:  # an effect bug must fail this record, not the chunk
            error = {"kind": "internal", "message": f"{type(exc).__name__}: {exc}"[:2000], "step_id": ""}
            result.failures.append((f"record:{position}", record, error))
            continue
        result.tally.add(position, outcome.steps)
        if outcome.status == "completed":
            result.succeeded += 1
            result.outputs.append(outcome.record)
        elif outcome.status == "suspended" and outcome.suspend_reason == "batch":
            result.succeeded += 1
            key = outcome.state["steps"][outcome.suspended_at]["group_key"]
            result.groups.setdefault(key, []).append(outcome.record)
        elif outcome.status == "halted":
            result.skipped += 1
        else:
            error = error_dict(outcome.error) or {"kind": "internal", "message": f"stopped: {outcome.status}"}
            if retry_transient and error.get("classification") == "transient":
                result.retry.append(offset)
                wait = error.get("retry_after") or result.effects.retry_after
                result.retry_after = max(result.retry_after or 0.0, wait or 0.0) or None
                continue
            result.failures.append((f"record:{position}", record, error))
    # one JSON round trip for the whole chunk (dates, decimals) instead of one per record
    result.outputs, result.groups = jsonable(result.outputs), jsonable(result.groups)
    return result


def write_results(run: Run, result: Results, *, attempt: int, scope: dict) -> None:
    """Inside the caller's fenced transaction: step counts, exceptions, deliveries in bulk."""
    from integrations.deliveries import services as ledger

    StepRun.objects.bulk_create(result.tally.rows(run, attempt=attempt, scope=scope))
    open_item_exceptions(run, result.failures)
    ledger.request_deliveries(run=run, connections=result.effects.connections, requests=result.effects.requests)


def open_item_exceptions(run: Run, failures, classification=None) -> None:
    """One exception per failed record or group, bulk-created, with what a person needs to
    retry it: the record (or the group) as original input."""
    from integrations.runs.exceptions import signature

    if not failures:
        return
    flow = run.flow_version.flow
    rows = []
    for item, original, err in failures:
        step_id, message = err.get("step_id") or "", err.get("message") or "failed"
        transient = err.get("classification") == "transient"
        rows.append(
            RunException(
                run=run,
                flow=flow,
                item=item,
                step_id=step_id,
                classification=classification or (Classification.TRANSIENT if transient else Classification.PERMANENT),
                kind=err.get("kind") or "",
                message=message,
                message_signature=signature(flow.key, step_id, message),
                field=err.get("field") or "",
                business_key=run.business_key,
                original_input=jsonable(original),
            )
        )
    RunException.objects.bulk_create(rows, batch_size=500)
    audit.record("system:runtime", "exception.open", run, message=f"{len(rows)} records of the batch run failed")


def execute(run: Run) -> Run | None:
    """A claimed batch run: split it the first time, finish it once its chunks are done."""
    try:
        return finish(run) if run.chunked else split(run)
    except StaleFence:
        return None
    except Exception as exc:  # a bug must become an exception, not a lost run
        return outcomes.crash(run, exc)


def split(run: Run) -> Run:
    definition = run.flow_version.definition
    try:
        records = records_of(definition, run.record)
    except ValueError as exc:
        err = SimpleNamespace(step_id="", kind="mapping", message=str(exc), field="for_each.path", classification="")
        with transaction.atomic():
            outcomes._fail(run, err, None, timezone.now())
        return run
    rows = chunks.build(run, records, chunk_size(definition))
    with transaction.atomic():
        outcomes._guarded(
            run,
            status=RunStatus.WAITING_CHUNKS,
            chunked=True,
            lease_until=None,
            output={"records": len(records), "chunks": len(rows)},
        )
        RunChunk.objects.bulk_create(rows, batch_size=100)
        chunks.enqueue_on_commit(RunChunk.objects.filter(run=run).values_list("pk", flat=True))
    chunks.complete_if_done(run.pk)  # no records: nothing to wait for
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
        outcomes._guarded(run, status=RunStatus.WAITING_DELIVERY, output=counters, lease_until=None, state=None)
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


def finish_if_delivered(run_id: int) -> bool:
    """Once no delivery of the run is outstanding: the final status, exactly once."""
    from integrations.deliveries.models import Delivery
    from integrations.runs.exceptions import resolve_after_successful_retry

    pending = Delivery.objects.filter(run_id=OuterRef("pk"), state__in=NOT_DONE)
    now = timezone.now()
    with transaction.atomic():
        won = (
            Run.objects.filter(pk=run_id, status=RunStatus.WAITING_DELIVERY)
            .exclude(Exists(pending))
            .update(status=RunStatus.SUCCEEDED, finished_at=now, lease_until=None)
        )
        if not won:
            return False
        run = Run.objects.select_related("flow_version__flow").get(pk=run_id)
        counts = Delivery.objects.filter(run_id=run_id).aggregate(
            total=Count("pk"), dead=Count("pk", filter=Q(state="DEAD"))
        )
        output = {**(run.output or {}), "deliveries": counts["total"], "deliveries_dead": counts["dead"]}
        failed = output.get("failed") or output.get("groups_failed") or counts["dead"]
        run.status = RunStatus.FAILED if failed else RunStatus.SUCCEEDED
        Run.objects.filter(pk=run_id).update(status=run.status, output=output)
        if not failed:
            resolve_after_successful_retry(run)
    return True


def on_delivery_finished(run: Run, delivery) -> None:
    """A delivery of a batch run ended: resolve or (re)open its own exception, then see
    whether the run is done. Never touches the run's other records."""
    from integrations.runs.exceptions import open_for_delivery

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
