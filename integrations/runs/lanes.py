"""Which lane a run is claimed from (docs/ARCHITECTURE.md#lanes-and-queues).

A run's lane is a column (`Run.lane`) so a worker can claim the due runs of one lane in a
batch straight from the database (claims.py). The lane names are the broker queues'
(studio/lane_transport.py): "default" is the interactive lane, "bulk" the bulk lane.

- bulk: new runs a poll or a replay made, and new runs made inside a task taken from the bulk
  lane (a bulk retry of 2,000 exceptions);
- interactive: everything else. A run becomes interactive when it first starts (the claim
  sets it): its resumption after a delivery or an approval, or its retry after a transient
  error, finishes work under way, which comes before starting new bulk work."""

from celery import current_task

from integrations.runs.choices import Trigger

INTERACTIVE = "default"
BULK = "bulk"
RUN_LANES = (INTERACTIVE, BULK)
BULK_TRIGGERS = frozenset({Trigger.POLL, Trigger.REPLAY})


def for_new_run(trigger: str) -> str:
    return BULK if trigger in BULK_TRIGGERS or sent_from_bulk_lane() else INTERACTIVE


def sent_from_bulk_lane() -> bool:
    """True inside a task taken from the bulk lane: the runs it creates are bulk work too."""
    request = getattr(current_task, "request", None)
    info = getattr(request, "delivery_info", None) or {}
    return info.get("routing_key") == BULK


def taken_from(request) -> str | None:
    """The run lane a Celery message was taken from (None when run eagerly or unknown)."""
    info = getattr(request, "delivery_info", None) or {}
    lane = info.get("routing_key")
    return lane if lane in RUN_LANES else None
