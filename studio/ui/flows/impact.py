"""Publish impact preview: the draft dry-run over the flow's last N events next to the live
version on the same events, so the publisher sees how many outputs would change and, per
changed record, which fields.

Both sides run in dry run with the same read-only look-ups (each distinct look-up is read
once and shared, so the two sides see the same data and the vendor is asked once), writes and
approvals simulated. An output is what the run would send: its status, its error, and every
delivery's payload by connection/object/key."""

import time
from dataclasses import dataclass, field

from integrations.crosswalk.services import canonical_id, external_id
from integrations.events.models import Event
from integrations.flows import engine_api
from integrations.flows.models import Flow, FlowVersion
from integrations.runs.effects import RuntimeEffects
from integrations.runs.preview import PageEffects, dry_run_page
from studio.ui.flows.version_diff import field_diff

DEFAULT_EVENTS, MAX_EVENTS = 100, 1000


@dataclass
class Impact:
    events: int = 0
    changed: list = field(default_factory=list)  # [{"event", "diff": [(path, live, draft)]}]
    unchanged: int = 0
    source: str = ""
    problem: str = ""
    seconds: float = 0.0


def last_events(flow: Flow, definition: dict, n: int) -> tuple[list[Event], str]:
    """The events the flow ran on, newest first; before any run, the newest events its event
    trigger matches."""
    events = list(
        Event.objects.filter(runs__flow_version__flow=flow, runs__is_test=False)
        .distinct()
        .order_by("-received_at", "-id")[:n]
    )
    if events:
        return events, "the flow's last events"
    trigger = definition.get("trigger") if isinstance(definition, dict) else None
    if isinstance(trigger, dict) and trigger.get("type") == "event" and trigger.get("connection"):
        matching = Event.objects.filter(source=trigger["connection"])
        if trigger.get("event") not in (None, "", "*"):
            matching = matching.filter(type=trigger["event"])
        return list(matching.order_by("-received_at", "-id")[:n]), "the newest events matching the trigger"
    return [], ""


class SharedReads:
    """One read per distinct look-up for the whole preview; failures are remembered too."""

    def __init__(self):
        self._reads = RuntimeEffects(run=None)
        self._seen: dict = {}

    def lookup(self, step, request: dict):
        key = repr(sorted((request or {}).items()))
        if key not in self._seen:
            try:
                self._seen[key] = ("ok", self._reads.lookup(step, request))
            except Exception as exc:  # an effect's failure is the step's error, on both sides alike
                self._seen[key] = ("error", exc)
        kind, value = self._seen[key]
        if kind == "error":
            raise value
        return value


def output_of(version: FlowVersion, payload, reads: SharedReads) -> dict:
    if engine_api.is_batch_flow(version.definition):
        effects = PageEffects(lookup=reads.lookup, crosswalk=canonical_id, linked_id=external_id)
        status, error, _ = dry_run_page(version, payload, effects)
    else:
        effects = engine_api.dry_run_effects(lookup=reads.lookup, crosswalk=canonical_id, linked_id=external_id)
        outcome = engine_api.run(engine_api.plan_for(version), payload, effects, dry_run=True)
        status, error = outcome.status, (outcome.error.message if outcome.error else None)
    out: dict = {"status": status}
    if error:
        out["error"] = error
    for request in effects.deliveries:
        out[f"{request.connection}/{request.object}/{request.key}"] = request.payload
    return out


def preview(flow: Flow, draft: FlowVersion, live: FlowVersion | None, n: int) -> Impact:
    started = time.monotonic()
    impact = Impact()
    if live is None:
        impact.problem = "Nothing is live yet: there is no earlier output to compare with."
        return impact
    try:
        engine_api.compile_flow(draft.definition)
    except engine_api.DefinitionInvalid:
        impact.problem = "The draft has errors to fix first; the preview runs once it validates."
        return impact
    events, impact.source = last_events(flow, live.definition, n)
    reads = SharedReads()
    for event in events:
        before = output_of(live, event.payload, reads)
        after = output_of(draft, event.payload, reads)
        if before == after:
            impact.unchanged += 1
        else:
            impact.changed.append({"event": event, "diff": field_diff(before, after)})
    impact.events = len(events)
    impact.seconds = round(time.monotonic() - started, 2)
    return impact
