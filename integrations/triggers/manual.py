"""Runs a person starts: a manual run of a flow on a record, and replays of stored events."""

from django.db import transaction

from integrations.audit import services as audit
from integrations.flows.models import Flow
from integrations.flows.services import matching_versions
from integrations.runs.choices import Trigger
from integrations.runs.models import Run
from integrations.runs.services import create_run

REPLAY_LIMIT = 5000


def start_manual_run(flow, user, record: dict) -> Run:
    version = flow.live_version
    if version is None:
        raise ValueError("the flow has no published version")
    with transaction.atomic():
        run = create_run(version, trigger=Trigger.MANUAL, record=record, user=user)
        audit.record(user, "run.start", run, message=f"manual run of {version}")
    return run


class ReplayInvalid(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def replay_events(events, user, *, flow: Flow | None = None) -> list:
    """New runs of each event on the current published version of its flows (or of `flow`).

    Deliveries keep their idempotency keys, so whatever the ledger says is done is found
    done and not posted again."""
    events = list(events[: REPLAY_LIMIT + 1])
    if len(events) > REPLAY_LIMIT:
        raise ReplayInvalid("filter", f"matches more than {REPLAY_LIMIT} events; narrow it")
    if flow is not None and flow.live_version is None:
        raise ReplayInvalid("flow", "the flow has no published version")
    runs = []
    with transaction.atomic():
        for event in events:
            versions = [flow.live_version] if flow else matching_versions(event.source, event.type)
            runs += [create_run(v, trigger=Trigger.REPLAY, event=event, user=user) for v in versions]
        audit.record(
            user, "event.replay", flow, object_type="events.event", message=f"{len(events)} events → {len(runs)} runs"
        )
    return runs
