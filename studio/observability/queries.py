"""The database reads behind /metrics: a fixed number of aggregate queries per scrape,
whatever the number of flows, connections or runs, each answered from an index or a bounded
window, so a scrape costs the same at a thousand runs or a million.

Finished work is counted over recent windows (runs created in the last hour, attempts
started in the last hour, the last STEP_WINDOW step runs), unfinished work over all time
(it is few rows: the ledger's non-succeeded states, unfinished runs, active exceptions).
Labels carry names only (flow keys, connection names, step ids, states): never a payload,
a business key or a secret."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, IntegerField, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations.connections.models import Connection
from integrations.deliveries.choices import DUE_STATES, DeliveryState
from integrations.deliveries.holds import held_connection_ids
from integrations.deliveries.models import Delivery, DeliveryAttempt, ThrottleEvent
from integrations.runs.choices import ACTIVE_EXCEPTION, TERMINAL, ChunkStatus, RunStatus
from integrations.runs.models import Run, RunChunk, RunException, StepRun

RECENT = timedelta(hours=1)  # runs created and attempts started this recently
THROTTLE_WINDOW = timedelta(minutes=5)
STEP_WINDOW = 5000  # the most recent step runs the duration histogram covers
# Upper bounds (seconds) of the step duration buckets.
STEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNFINISHED_RUN = [s for s in RunStatus.values if s not in TERMINAL]
NOT_SUCCEEDED = [s for s in DeliveryState.values if s != DeliveryState.SUCCEEDED]


@dataclass
class StepDurations:
    flow: str
    step: str
    buckets: list[int]  # cumulative counts per STEP_BUCKETS bound
    count: int
    sum_seconds: float


@dataclass
class ConnectionState:
    name: str
    circuit: str  # closed | half-open | open
    circuit_failures: int
    held: bool  # paused, in a maintenance window, or circuit open
    throttle_deferrals: int  # in the last THROTTLE_WINDOW


@dataclass
class Snapshot:
    runs_recent: list[tuple[str, str, int]] = field(default_factory=list)  # (flow, status, n)
    runs_unfinished: list[tuple[str, str, int]] = field(default_factory=list)
    steps: list[StepDurations] = field(default_factory=list)
    deliveries: list[tuple[str, str, int]] = field(default_factory=list)  # (connection, state, n)
    attempts_recent: list[tuple[str, str, int]] = field(default_factory=list)  # (connection, outcome, n)
    exceptions: list[tuple[str, str, str, int]] = field(default_factory=list)  # (flow, status, classification, n)
    backlog_seconds: dict[str, float] = field(default_factory=dict)  # kind -> age of the oldest due row
    connections: list[ConnectionState] = field(default_factory=list)


def runs_by_flow_and_status(runs) -> list[tuple[str, str, int]]:
    rows = runs.filter(is_test=False).order_by().values_list("flow_version__flow__key", "status")
    return sorted(rows.annotate(n=Count("id")))


def step_durations() -> list[StepDurations]:
    """Bucket counts of the last STEP_WINDOW step runs per (flow, step), in one query."""
    recent_ids = StepRun.objects.order_by("-id").values("id")[:STEP_WINDOW]
    buckets = {f"le_{n}": Count("id", filter=Q(duration_ms__lte=bound * 1000)) for n, bound in enumerate(STEP_BUCKETS)}
    rows = (
        StepRun.objects.filter(id__in=Subquery(recent_ids))
        .order_by()
        .values("run__flow_version__flow__key", "step_id")
        .annotate(n=Count("id"), total_ms=Sum("duration_ms"), **buckets)
    )
    return sorted(
        (
            StepDurations(
                flow=row["run__flow_version__flow__key"],
                step=row["step_id"],
                buckets=[row[f"le_{n}"] for n in range(len(STEP_BUCKETS))],
                count=row["n"],
                sum_seconds=(row["total_ms"] or 0) / 1000,
            )
            for row in rows
        ),
        key=lambda s: (s.flow, s.step),
    )


def oldest_due_age(queryset, now: datetime) -> float:
    """Seconds since the longest-waiting due row became due (0 when none waits)."""
    oldest = queryset.filter(next_attempt_at__lte=now).aggregate(at=Min("next_attempt_at"))["at"]
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


def circuit_of(open_until: datetime | None, now: datetime) -> str:
    if open_until is None:
        return "closed"
    return "open" if open_until > now else "half-open"


def connection_states(now: datetime) -> list[ConnectionState]:
    deferrals = (
        ThrottleEvent.objects.filter(connection=OuterRef("pk"), at__gte=now - THROTTLE_WINDOW)
        .order_by()
        .values("connection")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = (
        Connection.objects.order_by("name")
        .annotate(deferrals=Coalesce(Subquery(deferrals, output_field=IntegerField()), 0))
        .values_list("pk", "name", "circuit_open_until", "circuit_failures", "deferrals")
    )
    held = held_connection_ids(now)
    return [
        ConnectionState(name, circuit_of(open_until, now), failures, pk in held, deferrals)
        for pk, name, open_until, failures, deferrals in rows
    ]


def snapshot(now: datetime | None = None) -> Snapshot:
    now = now or timezone.now()
    since = now - RECENT
    return Snapshot(
        runs_recent=runs_by_flow_and_status(Run.objects.filter(created_at__gte=since)),
        runs_unfinished=runs_by_flow_and_status(Run.objects.filter(status__in=UNFINISHED_RUN)),
        steps=step_durations(),
        deliveries=sorted(
            Delivery.objects.filter(state__in=NOT_SUCCEEDED)
            .order_by()
            .values_list("connection__name", "state")
            .annotate(n=Count("id"))
        ),
        attempts_recent=sorted(
            DeliveryAttempt.objects.filter(started_at__gte=since)
            .order_by()
            .values_list("delivery__connection__name", "outcome")
            .annotate(n=Count("id"))
        ),
        exceptions=sorted(
            RunException.objects.filter(status__in=ACTIVE_EXCEPTION)
            .order_by()
            .values_list("flow__key", "status", "classification")
            .annotate(n=Count("id"))
        ),
        backlog_seconds={
            "run": oldest_due_age(Run.objects.filter(status=RunStatus.QUEUED), now),
            "chunk": oldest_due_age(RunChunk.objects.filter(status=ChunkStatus.QUEUED), now),
            "delivery": oldest_due_age(Delivery.objects.filter(state__in=DUE_STATES), now),
        },
        connections=connection_states(now),
    )
