"""Event intake: store the event and create its runs in one transaction (the runs are the
outbox: queued rows the dispatcher also finds if the on-commit enqueue is lost)."""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from integrations import tracing
from integrations.connectors.errors import EventInvalid
from integrations.events.hooks import event_stored
from integrations.events.models import Event


@dataclass
class Ingested:
    event: Event
    runs: list = field(default_factory=list)
    created: bool = True


def _check(source, type_, external_id, payload) -> None:
    for name, value, limit in (("source", source, 80), ("type", type_, 120), ("external_id", external_id, 255)):
        if not isinstance(value, str) or not value.strip():
            raise EventInvalid(name, "is required")
        if len(value) > limit:
            raise EventInvalid(name, f"must be at most {limit} characters")
    if not isinstance(payload, dict):
        raise EventInvalid("payload", "must be a JSON object")


@tracing.traced("event.intake")
def ingest_event(
    *,
    source: str,
    type: str,
    external_id: str,
    payload: dict,
    connection=None,
    business_key: str = "",
    versions=None,
) -> Ingested:
    """Store an inbound event and start a run for every active flow it triggers (or, for a
    poll, for the `versions` given).

    A duplicate (same source and external id) returns the first event and its runs with
    created=False and starts nothing, also when two copies arrive at the same moment."""
    _check(source, type, external_id, payload)
    tracing.annotate(source=source, type=type)
    try:
        with transaction.atomic():
            event = Event.objects.create(
                connection=connection,
                source=source,
                type=type,
                external_id=external_id,
                payload=payload,
                business_key=business_key[:200],
            )
            # The runtime starts the runs (events/hooks.py), in this transaction.
            created_runs = [run for runs in event_stored.send(event=event, versions=versions) for run in runs]
    except IntegrityError:
        event = Event.objects.get(source=source, external_id=external_id)
        return Ingested(event, list(event.runs.filter(sequence=0).order_by("id")), created=False)
    tracing.annotate(event_id=event.pk)
    tracing.runs_queued([run.pk for run in created_runs], event_id=event.pk)  # each run's trace links here
    return Ingested(event, created_runs, created=True)
