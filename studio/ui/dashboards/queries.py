"""Read-only figures for the dashboard panels. Each function answers one panel in a fixed
number of queries (aggregates grouped in the database; the run figures from hourly
roll-ups plus the few hours not rolled up yet), and counts exactly what the list it links
to shows:

- runs, failures, latency and the charts: runs created since the window's first midnight
  (the run list's ?since=, which is whole days);
- open exceptions and failures by stage: the exception queue's Open tab (open + assigned),
  which has no date filter, so these ignore the range;
- held deliveries and API consumption: what each connection's page shows (its hold, its
  requests over the last 24 hours)."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, FloatField, Min, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from integrations.connections.models import Connection
from integrations.deliveries.choices import DUE_STATES, TERMINAL_STATES
from integrations.deliveries.holds import held_connection_ids
from integrations.deliveries.models import Delivery, DeliveryAttempt
from integrations.flows.choices import VersionState
from integrations.flows.models import Flow, FlowVersion
from integrations.runs.choices import TERMINAL, BatchStatus, ExceptionStatus, RunStatus
from integrations.runs.models import GroupedRecord, Run, RunException
from integrations.runs.queries import record_region
from integrations.runs.rollups import read as rollups
from studio.ui.dashboards.window import Window

# The exception queue's default tab.
OPEN = (ExceptionStatus.OPEN, ExceptionStatus.ASSIGNED)
# The NetSuite record an approved Kantata time entry becomes (integrations/flows/demo.py):
# a flow that delivers one of these turns approved hours into billable ERP records.
ERP_TIME_OBJECTS = ("timeBill",)
# Runs of a won opportunity that have not made its project yet (succeeded = made; halted and
# cancelled = stopped on purpose).
NOT_YET_A_PROJECT = (
    RunStatus.QUEUED,
    RunStatus.RUNNING,
    RunStatus.WAITING_APPROVAL,
    RunStatus.WAITING_DELIVERY,
    RunStatus.FAILED,
)
USAGE_WINDOW = timedelta(hours=24)


def in_window(window: Window):
    return Run.objects.filter(created_at__gte=window.start)


@dataclass
class RunFigures:
    total: int
    finished: int
    failed: int
    timed: int
    p95: timedelta | None

    @property
    def failure_rate(self) -> float | None:
        return 100 * self.failed / self.finished if self.finished else None


def run_figures(window: Window) -> RunFigures:
    """Runs in the window, the failed share of those that ended, and the 95th percentile of
    the time from start to end (rounded up to two significant digits of a millisecond), from
    the hourly roll-ups and the hours not rolled up yet (integrations/runs/rollups/read.py)."""
    whole = rollups.since(window.start).whole
    p95 = whole.percentile_ms(0.95)
    return RunFigures(
        total=whole.runs(),
        finished=whole.runs(TERMINAL),
        failed=whole.runs((RunStatus.FAILED,)),
        timed=whole.timed,
        p95=timedelta(milliseconds=p95) if p95 is not None else None,
    )


def open_exceptions() -> int:
    return RunException.objects.filter(status__in=OPEN).count()


@dataclass
class Backlog:
    queued: int
    oldest: datetime | None

    @property
    def age(self) -> timedelta | None:
        return timezone.now() - self.oldest if self.oldest else None


def backlog() -> Backlog:
    """Runs waiting for a worker (an event's run is created on intake and queued)."""
    row = Run.objects.filter(status=RunStatus.QUEUED).aggregate(queued=Count("id"), oldest=Min("created_at"))
    return Backlog(**row)


def held_deliveries() -> list[dict]:
    """[{name, label, held}] per connection on hold now with due deliveries, as its page counts them."""
    held = held_connection_ids()
    if not held:
        return []
    rows = (
        Delivery.objects.filter(connection_id__in=held, state__in=DUE_STATES)
        .values("connection__name", "connection__label")
        .annotate(n=Count("id"))
        .order_by("-n", "connection__name")
    )
    return [{"name": r["connection__name"], "label": r["connection__label"], "held": r["n"]} for r in rows]


@dataclass
class Usage:
    name: str
    label: str
    requests: int
    capacity: int | None  # requests the limit allows in 24 h; None = no limit configured

    @property
    def percent(self) -> float | None:
        return round(100 * self.requests / self.capacity, 2) if self.capacity else None


def api_usage() -> list[Usage]:
    """Requests per connection over the last 24 hours against its daily capacity (the
    connection page's numbers: attempts that called the target)."""
    since = timezone.now() - USAGE_WINDOW
    calls = dict(
        DeliveryAttempt.objects.filter(started_at__gte=since, http_calls__gt=0)
        .values_list("delivery__connection_id")
        .annotate(n=Count("id"))
        .values_list("delivery__connection_id", "n")
    )
    usage = []
    for c in Connection.objects.only("id", "name", "label", "rate_limit_requests", "rate_limit_interval_seconds"):
        limit = c.rate_limit_requests
        capacity = limit * 86400 // (c.rate_limit_interval_seconds or 1) if limit else None
        usage.append(Usage(c.name, c.label, calls.get(c.pk, 0), capacity))
    return sorted(usage, key=lambda u: (-(u.percent or 0), -u.requests, u.name))


# --- Charts ---------------------------------------------------------------------------


@dataclass
class Day:
    day: date
    succeeded: int = 0
    failed: int = 0
    other: int = 0
    avg_ms: float | None = None


def by_day(window: Window) -> list[Day]:
    """Runs per local day of the window by outcome, and the mean time from start to end of
    each day's timed runs (their summed durations over their number)."""
    found = rollups.since(window.start, durations=False).days
    days = {d: Day(d) for d in window.days}
    for day, tally in found.items():
        slot = days.setdefault(day, Day(day))
        slot.succeeded = tally.runs((RunStatus.SUCCEEDED,))
        slot.failed = tally.runs((RunStatus.FAILED,))
        slot.other = tally.runs() - slot.succeeded - slot.failed
        slot.avg_ms = tally.took_us / 1000 / tally.timed if tally.timed else None
    return [days[d] for d in sorted(days)]


def failures_by_stage(limit: int = 12) -> list[dict]:
    """[{flow, flow_name, step, n}] of open exceptions, most first: the queue filtered by flow and
    step. Grouped by flow id (no join of every open exception to its flow); the few groups are
    named and ordered here."""
    open_ones = RunException.objects.filter(status__in=OPEN).order_by()
    groups = list(open_ones.values_list("flow_id", "step_id").annotate(n=Count("*")))
    flows = Flow.objects.filter(pk__in={flow for flow, _, _ in groups})
    names = {pk: (key, name) for pk, key, name in flows.values_list("pk", "key", "name")}
    rows = [{"flow": names[f][0], "flow_name": names[f][1], "step": step, "n": n} for f, step, n in groups]
    return sorted(rows, key=lambda r: (-r["n"], r["flow"], r["step"]))[:limit]


# --- Business tiles -------------------------------------------------------------------


def live_definitions() -> dict[str, dict]:
    """{flow key: definition of its newest published version} in one query."""
    found: dict[str, tuple[int, dict]] = {}
    versions = FlowVersion.objects.filter(state=VersionState.PUBLISHED).values_list("flow__key", "number", "definition")
    for key, number, definition in versions:
        if key not in found or (number or 0) > found[key][0]:
            found[key] = (number or 0, definition or {})
    return {key: definition for key, (_, definition) in found.items()}


def delivers(definition: dict, objects) -> bool:
    return any(s.get("type") == "deliver" and s.get("object") in objects for s in definition.get("steps", []))


def mentions_invoice(definition: dict) -> bool:
    trigger = definition.get("trigger") or {}
    names = [str(trigger.get("event", "")), str(trigger.get("object", ""))]
    names += [str(s.get("object", "")) for s in definition.get("steps", []) if s.get("type") == "deliver"]
    return any("invoice" in n.lower() for n in names)


def won_opportunity(definition: dict) -> bool:
    return str((definition.get("trigger") or {}).get("event", "")).lower() == "opportunity.won"


def record_value(name: str, prefix: str = ""):
    """A field of the run's record as text: its own input, else its event's payload."""
    # KeyTextTransform over a path (KT() would read the relation's name as the JSON field).
    return Coalesce(KeyTextTransform(name, f"{prefix}input"), KeyTextTransform(name, f"{prefix}event__payload"))


def record_number(name: str, prefix: str = ""):
    return Cast(record_value(name, prefix), FloatField())


@dataclass
class Unbilled:
    flows: list[str]
    waiting: list[dict] = field(default_factory=list)  # [{flow, n}]: time bill pending, retrying or held
    failed: list[dict] = field(default_factory=list)  # [{flow, step, n}]: open exceptions after approval
    gathering: int = 0  # entries filed in batch groups that have asked for no time bill yet
    hours: float = 0.0
    value: dict = field(default_factory=dict)  # {currency: amount}

    @property
    def entries(self) -> int:
        return sum(w["n"] for w in self.waiting) + sum(f["n"] for f in self.failed) + self.gathering


def unbilled_hours(definitions: dict[str, dict]) -> Unbilled:
    """Approved time entries whose time bill is not in the ERP yet: runs of a time-bill flow
    waiting for their delivery (pending, retrying or held), and open exceptions of such runs
    whose entry was approved (the entry passed the approval route and then failed). Hours
    and value come from the Kantata entry itself: time_in_minutes times rate_in_cents."""
    flows = sorted(k for k, d in definitions.items() if delivers(d, ERP_TIME_OBJECTS))
    found = Unbilled(flows)
    if not flows:
        return found
    approved = Q(input__approved=True) | Q(input__isnull=True, event__payload__approved=True)
    waiting = Run.objects.filter(flow_version__flow__key__in=flows, status=RunStatus.WAITING_DELIVERY)
    failed = RunException.objects.filter(flow__key__in=flows, status__in=OPEN, run__in=Run.objects.filter(approved))
    found.waiting = [
        {"flow": r["flow_version__flow__key"], "n": r["n"]}
        for r in waiting.values("flow_version__flow__key").annotate(n=Count("id")).order_by("flow_version__flow__key")
    ]
    found.failed = [
        {"flow": r["flow__key"], "step": r["step_id"], "n": r["n"]}
        for r in failed.values("flow__key", "step_id").annotate(n=Count("id")).order_by("flow__key", "step_id")
    ]
    runs = Run.objects.filter(Q(pk__in=waiting.values("pk")) | Q(pk__in=failed.values("run_id")))
    sums = (
        runs.annotate(
            currency=record_value("currency"),
            entry_minutes=record_number("time_in_minutes"),
            entry_cents=record_number("rate_in_cents"),
        )
        .values("currency")
        .annotate(minutes=Sum("entry_minutes"), value=Sum(F("entry_minutes") * F("entry_cents")))
    )
    for r in sums:
        found.hours += (r["minutes"] or 0) / 60
        if r["value"]:
            found.value[r["currency"]] = found.value.get(r["currency"], 0) + r["value"] / 6000
    batch_flows = [k for k in flows if definitions[k].get("for_each")]
    found.hours += batched_hours_not_posted(batch_flows)
    found.gathering, gathering_hours = entries_gathering(batch_flows)
    found.hours += gathering_hours
    return found


def batched_hours_not_posted(flows: list[str]) -> float:
    """A batch flow's run holds a whole page (its input has no one entry's minutes): its
    approved hours wait in the time bills it asked for and that are not in the ERP yet
    (pending, in flight, retrying or held)."""
    if not flows:
        return 0.0
    waiting = Delivery.objects.filter(run__flow_version__flow__key__in=flows, object__in=ERP_TIME_OBJECTS).exclude(
        state__in=TERMINAL_STATES
    )
    total = waiting.aggregate(h=Sum(Cast(KeyTextTransform("hours", "payload"), FloatField())))["h"]
    return float(total or 0)


def entries_gathering(flows: list[str]) -> tuple[int, float]:
    """(entries, hours) filed in a batch flow's groups still gathering across pages, until a
    group is full or its max wait is up: approved and checked, but no time bill asked for yet."""
    if not flows:
        return 0, 0.0
    filed = GroupedRecord.objects.filter(flow__key__in=flows, group__status=BatchStatus.OPEN).aggregate(
        n=Count("id"), h=Sum(Cast(KeyTextTransform("total_hours", "record"), FloatField()))
    )
    return filed["n"], float(filed["h"] or 0)


@dataclass
class Unprojected:
    flows: list[str]
    until: date  # the run list's ?until=: won before today
    by_status: list[dict] = field(default_factory=list)  # [{flow, status, n}]

    @property
    def total(self) -> int:
        return sum(r["n"] for r in self.by_status)


def opportunities_without_project(definitions: dict[str, dict], today: date) -> Unprojected:
    """Won opportunities whose project run has not succeeded by the end of the day they were
    won: runs of an `opportunity.won` flow created before today, still not succeeded."""
    flows = sorted(k for k, d in definitions.items() if won_opportunity(d))
    until = today - timedelta(days=1)
    found = Unprojected(flows, until)
    if not flows:
        return found
    start_of_today = timezone.make_aware(datetime.combine(today, datetime.min.time()), timezone.get_current_timezone())
    rows = (
        Run.objects.filter(
            flow_version__flow__key__in=flows, status__in=NOT_YET_A_PROJECT, created_at__lt=start_of_today
        )
        .values("flow_version__flow__key", "status")
        .annotate(n=Count("id"))
        .order_by("flow_version__flow__key", "status")
    )
    found.by_status = [{"flow": r["flow_version__flow__key"], "status": r["status"], "n": r["n"]} for r in rows]
    return found


@dataclass
class InvoiceExceptions:
    flows: list[dict]  # [{flow, n}]: the queue filtered by flow
    by_region: list[dict]  # [{region, n}]

    @property
    def total(self) -> int:
        return sum(f["n"] for f in self.flows)


def invoice_exceptions(definitions: dict[str, dict]) -> InvoiceExceptions:
    """Open exceptions of flows that carry invoices (trigger or target names an invoice), by
    the region on the invoice record ("unknown" when it has none)."""
    keys = sorted(k for k, d in definitions.items() if mentions_invoice(d))
    if not keys:
        return InvoiceExceptions([], [])
    open_ones = RunException.objects.filter(flow__key__in=keys, status__in=OPEN)
    flows = [
        {"flow": r["flow__key"], "n": r["n"]}
        for r in open_ones.values("flow__key").annotate(n=Count("id")).order_by("flow__key")
    ]
    regions = (
        open_ones.annotate(region=record_region("run__"))
        .values("region")
        .annotate(n=Count("id"))
        .order_by("-n", "region")
    )
    return InvoiceExceptions(flows, [{"region": r["region"] or "unknown", "n": r["n"]} for r in regions])
