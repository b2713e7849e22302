"""Run a compiled plan on one record.

Steps run top to bottom. A step is skipped when its `when` is false or when it is the target
of a route that did not select it. A step that suspends (approval, delivery, batch) ends the
call with status "suspended"; the runtime resumes with
`run(plan, record, effects, state=outcome.state, start_at=<step id>, resume={"step_id": <step id>, "outcome": {...}})`.
`start_at` without `resume` re-runs from that step (retry from the failed step) with the
state saved at the failure. The loop is kept lean: it runs once per record per step."""

from __future__ import annotations

from time import perf_counter
from typing import Any

from . import limits
from .context import RunContext
from .errors import EngineError, ErrorKind, StepFailed, TemplateFailure
from .plan import CompiledStep, Plan
from .results import Outcome, RunStatus, StepResult, StepStatus
from .steps import KINDS
from .steps.base import StepOutcome

_UNEXPECTED_KIND: dict[str, ErrorKind] = {
    "map": "mapping",
    "route": "rule",
    "lookup": "lookup",
    "validate": "validation",
    "approve": "rule",
    "deliver": "delivery",
    "batch": "mapping",
}


def run(
    plan: Plan,
    record: dict[str, Any],
    effects: Any,
    *,
    state: dict[str, Any] | None = None,
    start_at: str | None = None,
    resume: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> Outcome:
    if state is None and start_at is None and resume is None and not dry_run and plan.mapping_only:
        return _run_mapping(plan, record, effects)
    ctx = RunContext.start(plan, record, state, dry_run)
    if resume is not None:
        start_at = start_at or resume.get("step_id")
        if resume.get("step_id") != start_at:
            raise ValueError(f"resume is for step {resume.get('step_id')!r} but start_at is {start_at!r}")
    index: int | None = plan.step(start_at).index if start_at else 0
    results: list[StepResult] = []
    if resume is not None:
        step = plan.steps[index or 0]
        verdict = _attempt(step, ctx, _resume, resume.get("outcome") or {}, results)
        if isinstance(verdict, Outcome):
            return verdict
        index = _next_index(plan, step, results, verdict)
    return _loop(plan, ctx, effects, index, results)


def _run_mapping(plan: Plan, record: dict[str, Any], effects: Any) -> Outcome:
    """Straight-line path for plans made only of unconditional map steps (a pure mapping):
    the same results as the general loop, with less bookkeeping per record. A RunContext is
    only built for steps whose fields need one (templates, value maps, crosswalk, types)."""
    outputs: dict[str, Any] = {}
    results: list[StepResult] = []
    current: Any = record
    ctx: RunContext | None = None
    for step in plan.steps:
        if ctx is None and step.spec.needs_context:
            ctx = RunContext(plan, record, current, outputs, {}, False)
        started = perf_counter()
        if step.renders:
            limits.start_step()
        try:
            out = step.transform(current, ctx, effects)
        except StepFailed as exc:  # the step's own error: running it again would only repeat it
            ctx = ctx or RunContext(plan, record, current, outputs, {}, False)
            return _failed(step, ctx, current, exc.error, started, results)
        except Exception:  # the general path reports the failure
            ctx = ctx or RunContext(plan, record, current, outputs, {}, False)
            return _loop(plan, ctx, effects, step.index, results)
        finally:
            if step.renders:
                limits.end_step()
        results.append(
            StepResult(step.id, "map", "succeeded", current, out, None, (perf_counter() - started) * 1000, {})
        )
        current = outputs[step.id] = out
        if ctx is not None:
            ctx.record = out
    return Outcome("completed", {"record": current, "steps": outputs, "routes": {}}, results, None, None, None)


def _loop(plan: Plan, ctx: RunContext, effects: Any, index: int | None, results: list[StepResult]) -> Outcome:
    steps = plan.steps
    while index is not None and index < len(steps):
        step = steps[index]
        if step.renders:
            limits.start_step()  # its `when`, its templates and its conditions share one time budget
        try:
            if step.gated_by is not None or step.when is not None:
                skip = _skip_reason(step, ctx, results)
                if skip is not None:
                    if isinstance(skip, Outcome):
                        return skip
                    results.append(StepResult(step.id, step.type, "skipped", None, None, detail={"reason": skip}))
                    index += 1
                    continue
            if step.transform is not None and not ctx.dry_run:
                # fast path for map steps: no StepOutcome, no detail (same results as execute)
                before, started = ctx.record, perf_counter()
                try:
                    ctx.record = ctx.steps[step.id] = step.transform(before, ctx, effects)
                except StepFailed as exc:  # the step's own error: running it again would only repeat it
                    return _failed(step, ctx, before, exc.error, started, results)
                except Exception:
                    ctx.record = before  # let the general path below report the failure
                else:
                    elapsed = (perf_counter() - started) * 1000
                    results.append(StepResult(step.id, "map", "succeeded", before, ctx.record, None, elapsed, {}))
                    index += 1
                    continue
            verdict = _attempt(step, ctx, step.execute, effects, results)
        finally:
            if step.renders:
                limits.end_step()
        if isinstance(verdict, Outcome):
            return verdict
        if verdict.control == "next":
            index += 1
        else:
            index = _next_index(plan, step, results, verdict)
    return _finish(ctx, results, "halted" if index is None else "completed")


def _resume(step: CompiledStep, ctx: RunContext, outcome: dict[str, Any]) -> StepOutcome:
    kind = KINDS[step.type]
    if not hasattr(kind, "resume"):
        raise ValueError(f"a {step.type} step cannot be resumed")
    resumed: StepOutcome = kind.resume(step, ctx, outcome)
    return resumed


def _skip_reason(step: CompiledStep, ctx: RunContext, results: list[StepResult]) -> str | Outcome | None:
    if step.gated_by and not ctx.selected(step.gated_by, step.id):
        return f"not selected by route {step.gated_by}"
    if step.when is None:
        return None
    try:
        return None if step.when(ctx.variables()) else "when is false"
    except TemplateFailure as exc:
        error = EngineError(step.id, "rule", f"when: {exc}", "when")
        results.append(StepResult(step.id, step.type, "failed", ctx.record, None, error.message))
        return _finish(ctx, results, "failed", error=error, failed_at=step.id)


def _attempt(
    step: CompiledStep, ctx: RunContext, call: Any, arg: Any, results: list[StepResult]
) -> Outcome | StepOutcome:
    """Run one step: an Outcome when the run stops here (failed or suspended), else the step's outcome."""
    before = ctx.record
    started = perf_counter()
    try:
        outcome: StepOutcome = call(step, ctx, arg)
    except StepFailed as exc:
        return _failed(step, ctx, before, exc.error, started, results)
    except Exception as exc:  # an Effects bug or an unmodelled input: never crash the caller
        kind = _UNEXPECTED_KIND[step.type]
        error = EngineError(step.id, kind, f"unexpected {exc.__class__.__name__}: {exc}", None, "transient")
        return _failed(step, ctx, before, error, started, results)
    elapsed = (perf_counter() - started) * 1000
    ctx.steps[step.id] = outcome.output
    if outcome.replace_record:
        ctx.record = outcome.record
    detail = dict(outcome.detail) if outcome.detail else {}
    if ctx.dry_run:
        detail["dry_run"] = True
    suspended = outcome.control == "suspend"
    status: StepStatus = "waiting" if suspended else "succeeded"
    results.append(StepResult(step.id, step.type, status, before, outcome.output, None, elapsed, detail))
    if suspended:
        return _finish(ctx, results, "suspended", suspended_at=step.id, reason=outcome.suspend_reason)
    return outcome


def _failed(
    step: CompiledStep, ctx: RunContext, before: Any, error: EngineError, started: float, results: list[StepResult]
) -> Outcome:
    elapsed = (perf_counter() - started) * 1000
    detail = {"details": list(error.details)} if error.details else {}
    results.append(StepResult(step.id, step.type, "failed", before, None, error.message, elapsed, detail))
    return _finish(ctx, results, "failed", error=error, failed_at=step.id)


def _next_index(plan: Plan, step: CompiledStep, results: list[StepResult], outcome: StepOutcome) -> int | None:
    """Index of the next step to consider; None when the run is halted."""
    if outcome.control in ("halt", "finish"):
        default = "run halted" if outcome.control == "halt" else "finished"
        reason = (outcome.detail or {}).get("reason", default) if outcome.control == "finish" else default
        for later in plan.steps[step.index + 1 :]:
            results.append(StepResult(later.id, later.type, "skipped", None, None, detail={"reason": reason}))
        return None if outcome.control == "halt" else len(plan.steps)
    if outcome.control == "jump" and outcome.jump_to:
        target = plan.step(outcome.jump_to).index
        for later in plan.steps[step.index + 1 : target]:
            reason = f"jumped to {outcome.jump_to}"
            results.append(StepResult(later.id, later.type, "skipped", None, None, detail={"reason": reason}))
        return target
    return step.index + 1


def _finish(
    ctx: RunContext,
    results: list[StepResult],
    status: RunStatus,
    *,
    error: EngineError | None = None,
    suspended_at: str | None = None,
    reason: Any = None,
    failed_at: str | None = None,
) -> Outcome:
    state: dict[str, Any] = {"record": ctx.record, "steps": ctx.steps, "routes": ctx.routes}
    if failed_at:
        state["failed_at"] = failed_at
    return Outcome(status, state, results, suspended_at, reason, error)
