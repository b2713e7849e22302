"""Schedule ticks and event replays become queued runs."""

from django.db import transaction
from django.utils import timezone

from integrations.audit import services as audit
from integrations.flows.choices import FlowStatus
from integrations.flows.models import Flow
from integrations.runs.choices import Trigger
from integrations.runs.services import create_run

REPLAY_LIMIT = 5000


def start_scheduled(flow_id: int):
    """One run per tick; the record is the trigger's payload plus the tick time."""
    flow = Flow.objects.filter(pk=flow_id, status=FlowStatus.ACTIVE).first()
    version = flow.live_version if flow else None
    if version is None:
        return None
    now = timezone.now()
    payload = (version.definition.get("trigger") or {}).get("payload") or {}
    return create_run(
        version,
        trigger=Trigger.SCHEDULE,
        record={**payload, "scheduled_at": now.isoformat()},
        business_key=f"tick:{now:%Y-%m-%dT%H:%M}",
    )


class ReplayInvalid(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def replay_events(events, user, *, flow: Flow | None = None) -> list:
    """New runs of each event on the current published version of its flows (or of `flow`).

    Deliveries keep their idempotency keys, so whatever the ledger says is done is found
    done and not posted again."""
    from integrations.flows.services import matching_versions

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
