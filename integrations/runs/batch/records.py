"""Running the records of a batch flow (`for_each`) in memory, and writing what they produced.

`run_records` runs the plan on each record of a chunk and collects the results without
writing anything; `write_results` writes them (step counts, one exception per failed record
or group, deliveries requested in bulk) inside the caller's fenced transaction."""

from dataclasses import dataclass, field
from time import monotonic

from integrations import leases
from integrations.audit import services as audit
from integrations.deliveries import services as ledger
from integrations.flows import engine_api
from integrations.flows.outcome_json import error_dict, jsonable
from integrations.runs.batch import held
from integrations.runs.batch.chunk_effects import ChunkEffects
from integrations.runs.batch.summary import StepTally
from integrations.runs.choices import Classification
from integrations.runs.inbox.opening import signature
from integrations.runs.models import Run, RunException, StepRun


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
    """How long one chunk may keep running records before it hands its rest on (leases.py)."""
    return leases.task_budget_seconds()


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
        if offset and (leases.stop_requested() or (budget is not None and monotonic() - started > budget)):
            break  # the rest goes on as a new chunk, due now (a worker asked to stop hands it on)
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
    StepRun.objects.bulk_create(result.tally.rows(run, attempt=attempt, scope=scope))
    open_item_exceptions(run, result.failures)
    ledger.request_deliveries(run=run, connections=result.effects.connections, requests=result.effects.requests)
    held.hold(run, result.effects.connections, result.effects.held)  # writes `after` one of those


def open_item_exceptions(run: Run, failures, classification=None) -> None:
    """One exception per failed record or group, bulk-created, with what a person needs to
    retry it: the record (or the group) as original input."""
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
