"""The record a step of a draft would receive, for the editor's step panels.

The steps before the chosen one are dry-run over a sample record as a test-run does (look-ups
and crosswalk read for real, deliveries and approvals simulated, nothing written); the current
record after them is the step's input. The sample is the one given, else the flow's most
recently pinned sample (flowtests), else its most recent run's input, else the newest event
matching its event trigger, else an empty record.

Drafts are often invalid while being edited, so only the steps BEFORE the chosen one are run,
and route rules that point at steps not run are dropped (they only gate later steps)."""

from dataclasses import dataclass, field

from integrations.crosswalk.services import canonical_id
from integrations.events.models import Event
from integrations.flows import engine_api
from integrations.flows.models import Flow, FlowVersion
from integrations.flows.testing import ReadOnlyLookups
from integrations.flowtests.models import Sample
from integrations.runs.models import Run


@dataclass
class StepInput:
    record: dict
    source: str  # where the sample came from, said on the panel: "the last run (#12)", "no sample yet"
    problem: str = ""  # why the record may not be what the step really gets (an earlier step is invalid…)
    steps: list = field(default_factory=list)  # the dry run of the earlier steps, for the test panel


def step_input(flow: Flow, draft: FlowVersion, index: int, sample: dict | None = None) -> dict:
    """The record the step at `index` of `draft` would receive (the contract the panels use)."""
    return explain(flow, draft, index, sample).record


def explain(flow: Flow, draft: FlowVersion, index: int, sample: dict | None = None) -> StepInput:
    if sample is not None:
        record, source = sample, "the sample given"
    else:
        record, source = last_sample(flow, draft.definition)
    definition = draft.definition if isinstance(draft.definition, dict) else {}
    if engine_api.is_batch_flow(definition):
        try:
            page = engine_api.records_of(definition, record) or []
        except ValueError:
            page = []
        if page:
            record, source = page[0], f"the first of {len(page)} records of {source}"
    if not isinstance(record, dict):
        return StepInput({}, source, "the sample is not a JSON object")
    return _run_before(definition, index, record, source)


def last_sample(flow: Flow, definition) -> tuple[dict, str]:
    pinned = Sample.objects.filter(flow=flow).only("name", "record").order_by("-updated_at", "-id").first()
    if pinned is not None and isinstance(pinned.record, dict):
        return pinned.record, f"pinned sample '{pinned.name}'"
    run = (
        Run.objects.filter(flow_version__flow=flow, is_test=False)
        .select_related("event")
        .only("id", "input", "event__payload")
        .order_by("-id")
        .first()
    )
    if run is not None:
        payload = run.input if run.input else (run.event.payload if run.event_id else None)
        if isinstance(payload, dict):
            return payload, f"the last run (#{run.pk})"
    trigger = definition.get("trigger") if isinstance(definition, dict) else None
    if isinstance(trigger, dict) and trigger.get("type") == "event" and trigger.get("connection"):
        events = Event.objects.filter(source=trigger["connection"])
        if trigger.get("event") not in (None, "", "*"):
            events = events.filter(type=trigger["event"])
        event = events.only("id", "payload").order_by("-received_at", "-id").first()
        if event is not None and isinstance(event.payload, dict):
            return event.payload, f"the last {trigger['connection']} event (#{event.pk})"
    return {}, "no sample yet"


def _run_before(definition: dict, index: int, record: dict, source: str) -> StepInput:
    steps = definition.get("steps") if isinstance(definition.get("steps"), list) else []
    before = _prune_routes(steps[: max(index, 0)])
    if not before:
        return StepInput(record, source)
    prefix = {k: v for k, v in definition.items() if k not in ("steps", "for_each")}
    prefix["steps"] = before
    try:
        plan = engine_api.compile_flow(prefix)
    except engine_api.DefinitionInvalid as exc:
        first = exc.errors[0] if exc.errors else None
        where = f" ({first.step_id}: {first.message})" if first else ""
        return StepInput(record, source, f"an earlier step is invalid{where}; showing the sample itself")
    reads = ReadOnlyLookups()
    try:
        effects = engine_api.dry_run_effects(lookup=reads.lookup, crosswalk=canonical_id)
        outcome = engine_api.run(plan, record, effects, dry_run=True)
    finally:
        reads.close()
    current = (outcome.state or {}).get("record", record)
    problem = ""
    if outcome.status == "failed" and outcome.error is not None:
        problem = f"step {outcome.error.step_id} failed on this sample: {outcome.error.message}"
    return StepInput(current if isinstance(current, dict) else {"value": current}, source, problem, outcome.steps)


def _prune_routes(steps: list) -> list:
    """Route rules that name steps outside `steps` are dropped; a route left without rules goes."""
    ids = {s.get("id") for s in steps if isinstance(s, dict)}
    kept = []
    for step in steps:
        if not isinstance(step, dict):
            continue
        if step.get("type") == "route":
            step = dict(step)
            rules = []
            for rule in step.get("rules") or []:
                if not isinstance(rule, dict):
                    continue
                to = rule.get("to")
                targets = [t for t in (to if isinstance(to, list) else [to]) if t in ids]
                if targets:
                    rules.append({**rule, "to": targets if isinstance(to, list) else targets[0]})
            other = step.get("otherwise")
            others = [t for t in (other if isinstance(other, list) else [other]) if t in ids]
            step["otherwise"] = (others if isinstance(other, list) else others[0]) if others else None
            if not rules:
                continue
            step["rules"] = rules
        kept.append(step)
    return kept
