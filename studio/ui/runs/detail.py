"""What the run page shows: the run without its (possibly huge) record and state, the runs
before and after it with the same business key, one timeline row per step run with the
connector and endpoint its definition names, and the deliveries with their attempts."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404

from integrations.connections.models import Connection
from integrations.deliveries.choices import DUE_STATES
from integrations.deliveries.holds import Hold, hold_for
from integrations.deliveries.models import Delivery
from integrations.runs.choices import RunStatus, StepStatus
from integrations.runs.models import Run, StepRun
from studio.ui.runs import payloads, statuses
from studio.ui.runs.history import human_duration

RUN_BLOBS = ("input", "state", "output", "resume")
# Deliveries listed under one step (a batch step can make thousands; the rest are counted).
DELIVERIES_SHOWN = 50


@dataclass
class Endpoint:
    connection: str
    kind: str
    call: str  # e.g. "create Project", "lookup Account"


@dataclass
class StepRow:
    step: StepRun
    status: statuses.Shown
    duration: str
    endpoint: Endpoint | None
    delivery_count: int = 0
    deliveries: list = field(default_factory=list)  # loaded for the step shown open
    is_failed: bool = False
    inputs: "payloads.Payload | None" = None  # set for the step shown open
    outputs: "payloads.Payload | None" = None
    changes: list | None = None

    @property
    def message(self) -> str:
        return (self.step.error or {}).get("message", "") if self.step.error else ""


def load_run(pk: int) -> Run:
    return get_object_or_404(Run.objects.select_related("flow_version__flow").defer(*RUN_BLOBS), pk=pk)


def neighbours(run: Run) -> tuple[int | None, int | None]:
    """Ids of the previous (older) and next (newer) run of the same business key."""
    if not run.business_key:
        return None, None
    same = Run.objects.filter(business_key=run.business_key).exclude(pk=run.pk)
    at = run.created_at
    older = same.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=run.pk), created_at__lte=at)
    newer = same.filter(Q(created_at__gt=at) | Q(created_at=at, id__gt=run.pk), created_at__gte=at)
    previous = older.order_by("-created_at", "-id").values_list("id", flat=True).first()
    following = newer.order_by("created_at", "id").values_list("id", flat=True).first()
    return previous, following


def endpoints(run: Run) -> dict[str, Endpoint]:
    """step id → the connection and call its definition names (lookups and deliveries)."""
    named = {}
    for raw in (run.flow_version.definition or {}).get("steps") or []:
        if isinstance(raw, dict) and raw.get("connection") and raw.get("id"):
            verb = "lookup" if raw.get("type") == "lookup" else raw.get("action") or raw.get("type", "")
            named[str(raw["id"])] = (str(raw["connection"]), f"{verb} {raw.get('object', '')}".strip())
    kinds = dict(Connection.objects.filter(name__in={name for name, _ in named.values()}).values_list("name", "kind"))
    return {step: Endpoint(name, kinds.get(name, ""), call) for step, (name, call) in named.items()}


def deliveries(run: Run, step_id: str) -> list[Delivery]:
    rows = Delivery.objects.filter(run=run, step_id=step_id).select_related("connection")
    rows = rows.defer("payload", "original_payload").prefetch_related("attempt_log").order_by("id")
    return list(rows[:DELIVERIES_SHOWN])


def delivery_counts(run: Run) -> dict[str, int]:
    counted = Delivery.objects.filter(run=run).values("step_id").annotate(n=Count("id")).order_by()
    return {row["step_id"]: row["n"] for row in counted}


def timeline(run: Run) -> list[StepRow]:
    """One row per step run, oldest first; the failed step (or, failing that, the step the
    run's error names) carries its payloads, diff and deliveries, as it is shown open."""
    steps = list(StepRun.objects.filter(run=run).defer(*payloads.SIDES).order_by("id"))
    named = endpoints(run) if steps else {}
    counts = delivery_counts(run) if steps else {}
    rows = [
        StepRow(
            step,
            statuses.step_status(step.status),
            human_duration_ms(step.duration_ms),
            named.get(step.step_id),
            counts.get(step.step_id, 0),
        )
        for step in steps
    ]
    failed = failed_row(run, rows)
    if failed:
        failed.is_failed = True
        failed.deliveries = deliveries(run, failed.step.step_id) if failed.delivery_count else []
        fill_payloads(failed)
    return rows


def failed_row(run: Run, rows: list[StepRow]) -> StepRow | None:
    failed = [r for r in rows if r.step.status == StepStatus.FAILED]
    if failed:
        return failed[-1]
    if run.status == RunStatus.FAILED and run.error:
        named = [r for r in rows if r.step.step_id == run.error.get("step_id")]
        return named[-1] if named else None
    return None


def fill_payloads(row: StepRow) -> StepRow:
    """Read the step's payload previews (cut by the database) and diff them when both are whole."""
    heads = payloads.with_heads(StepRun.objects.filter(pk=row.step.pk)).values("input_head", "output_head")[0]
    row.inputs = payloads.preview(heads["input_head"])
    row.outputs = payloads.preview(heads["output_head"])
    whole = not (row.inputs.truncated or row.outputs.truncated)
    row.changes = payloads.diff(row.inputs.data, row.outputs.data) if whole and not row.outputs.empty else None
    return row


def step_row(run: Run, step_pk: int) -> StepRow:
    step = get_object_or_404(StepRun.objects.filter(run=run).defer(*payloads.SIDES), pk=step_pk)
    shown = deliveries(run, step.step_id)
    count = (
        len(shown) if len(shown) < DELIVERIES_SHOWN else Delivery.objects.filter(run=run, step_id=step.step_id).count()
    )
    row = StepRow(
        step,
        statuses.step_status(step.status),
        human_duration_ms(step.duration_ms),
        endpoints(run).get(step.step_id),
        count,
        shown,
        is_failed=step.status == StepStatus.FAILED,
    )
    return fill_payloads(row)


def hold_of(run: Run) -> Hold | None:
    """Why a waiting run's delivery is not moving, when its connection is on hold."""
    if run.status != RunStatus.WAITING_DELIVERY:
        return None
    due = Delivery.objects.filter(run=run, state__in=DUE_STATES).select_related("connection").first()
    return hold_for(due.connection) if due else None


def human_duration_ms(ms: float) -> str:
    return human_duration(timedelta(milliseconds=ms or 0))
