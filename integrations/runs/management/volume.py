"""A realistic run history for measuring the operations pages: ten flows with a few
published versions each, runs spread over the last 90 days (more on weekdays and working
hours), skewed statuses, business keys that recur (some clients and projects run often),
step rows up to the step that stopped the run, and exceptions on failed runs.

Rows are generated as plain tuples and written with PostgreSQL's COPY (ids are chosen here,
so retries can point at earlier failed runs); other databases get batched INSERTs,
only meant for the small volumes tests use."""

import bisect
import itertools
import json
import math
import queue
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from integrations.flows.choices import FlowStatus, VersionState
from integrations.flows.models import Flow, FlowVersion
from integrations.runs.choices import Classification, ExceptionStatus, RunStatus, StepStatus, Trigger
from integrations.runs.inbox.opening import signature
from integrations.runs.models import Run, RunException, StepRun

PREFIX = "vol-"  # every flow made here; anything else in the database is real data

# key, name, business-key prefix, share of the runs, steps (id, type, connection, object/action)
FLOWS = (
    ("hours-to-erp", "Approved hours to ERP", "TS", 26, "kantata"),
    ("project-activation", "Won opportunity to project", "PRJ", 14, "salesforce"),
    ("invoice-sync", "Invoices to finance", "INV", 12, "netsuite"),
    ("expense-sync", "Expenses to finance", "EXP", 10, "netsuite"),
    ("customer-sync", "Customers to CRM", "CUS", 9, "hubspot"),
    ("resource-assignment", "Resource assignments", "RES", 8, "kantata"),
    ("employee-onboarding", "New hires to PSA", "EMP", 6, "bamboohr"),
    ("vendor-bills", "Vendor bills", "VB", 6, "netsuite"),
    ("opportunity-won", "Won deals to PSA", "OPP", 5, "salesforce"),
    ("timesheet-reminders", "Timesheet reminders", "TSR", 4, "dynamics"),
)
STEPS = (
    ("validate", "validate", None, None),
    ("to_canonical", "map", None, None),
    ("find_client", "lookup", "crm", "Account"),
    ("approve", "approve", None, None),
    ("post", "deliver", "erp", "create"),
)
# status → weight per 10,000 runs (failed is raised to cover --exceptions)
STATUS_WEIGHTS = {
    RunStatus.SUCCEEDED: 8600,
    RunStatus.FAILED: 800,
    RunStatus.HALTED: 300,
    RunStatus.CANCELLED: 50,
    RunStatus.WAITING_APPROVAL: 150,
    RunStatus.WAITING_DELIVERY: 60,
    RunStatus.RUNNING: 20,
    RunStatus.QUEUED: 20,
}
ACTIVE = {RunStatus.WAITING_APPROVAL, RunStatus.WAITING_DELIVERY, RunStatus.RUNNING, RunStatus.QUEUED}
TRIGGERS = ((Trigger.EVENT, 78), (Trigger.SCHEDULE, 10), (Trigger.POLL, 5), (Trigger.MANUAL, 3), (Trigger.REPLAY, 1))
RETRY_SHARE = 0.03
# (step, kind, message template, classification)
FAILURES = (
    ("post", "http_422", "HTTP 422: Project code {n} already exists in workspace", "permanent"),
    ("post", "http_400", "HTTP 400: INVALID_FIELD: Cost center {n} is inactive", "permanent"),
    ("find_client", "lookup", "No Account found with External_Id__c = C-{n}", "permanent"),
    ("validate", "validation", "hours: 26.5 is greater than the maximum of 24 (entry {n})", "permanent"),
    ("to_canonical", "mapping", "currency: 'XBT' is not an ISO 4217 code (record {n})", "permanent"),
    ("post", "http_503", "HTTP 503: Service Unavailable after 5 attempts (request {n})", "transient"),
    ("post", "http_429", "HTTP 429: rate limit exceeded, retries exhausted (window {n})", "transient"),
)
EXCEPTION_STATES = (
    (ExceptionStatus.OPEN, 60),
    (ExceptionStatus.ASSIGNED, 8),
    (ExceptionStatus.RETRYING, 2),
    (ExceptionStatus.RESOLVED, 22),
    (ExceptionStatus.SKIPPED, 8),
)
CLIENTS = ("Acme Corp", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises", "Soylent")
RUN_COLUMNS = [
    "id",
    "flow_version_id",
    "event_id",
    "sequence",
    "trigger",
    "status",
    "business_key",
    "input",
    "state",
    "start_at",
    "resume",
    "error",
    "output",
    "retry_of_id",
    "chunked",
    "item",
    "is_test",
    "created_by_id",
    "lease_until",
    "fence",
    "attempts",
    "worker_losses",
    "next_attempt_at",
    "enqueued_at",
    "created_at",
    "started_at",
    "finished_at",
]
STEP_COLUMNS = [
    "run_id",
    "step_id",
    "type",
    "status",
    "input",
    "output",
    "error",
    "detail",
    "duration_ms",
    "attempt",
    "started_at",
]
EXCEPTION_COLUMNS = [
    "run_id",
    "flow_id",
    "step_id",
    "status",
    "classification",
    "kind",
    "message",
    "message_signature",
    "field",
    "item",
    "business_key",
    "delivery_id",
    "assignee_id",
    "tags",
    "resolution_reason",
    "original_input",
    "input_revisions",
    "first_seen",
    "last_seen",
    "duplicate_count",
    "resolved_by_id",
    "resolved_at",
]


class Picker:
    """A weighted choice by bisection over cumulative weights (random.choices rebuilds them each call)."""

    def __init__(self, rng: random.Random, items, weights):
        self.rng, self.items = rng, list(items)
        self.cumulative = list(itertools.accumulate(weights))

    def __call__(self):
        return self.items[bisect.bisect(self.cumulative, self.rng.random() * self.cumulative[-1])]


class RealData(Exception):
    """The database holds flows or runs that this generator did not make."""


def real_data() -> list[str]:
    """Keys of flows not made here (runs need a flow, so this covers them too)."""
    return list(Flow.objects.exclude(key__startswith=PREFIX).values_list("key", flat=True)[:5])


@dataclass
class Counts:
    runs: int = 0
    steps: int = 0
    exceptions: int = 0


@dataclass
class FlowPlan:
    flow: Flow
    versions: list[FlowVersion]
    key_prefix: str
    weight: int


def ensure_flows(now: datetime) -> list[FlowPlan]:
    plans = []
    for key, name, key_prefix, weight, erp in FLOWS:
        flow, _ = Flow.objects.get_or_create(
            key=PREFIX + key, defaults={"name": name, "status": FlowStatus.ACTIVE, "description": "Generated history"}
        )
        versions = list(flow.versions.filter(state=VersionState.PUBLISHED).order_by("number"))
        for number in range(len(versions) + 1, 4):
            versions.append(
                FlowVersion.objects.create(
                    flow=flow,
                    state=VersionState.PUBLISHED,
                    number=number,
                    definition=definition(erp),
                    published_at=now - timedelta(days=120 - 30 * number),
                )
            )
        plans.append(FlowPlan(flow, versions, key_prefix, weight))
    return plans


def definition(erp: str) -> dict:
    steps = []
    for step_id, kind, role, what in STEPS:
        step = {"id": step_id, "type": kind}
        if role == "crm":
            step.update(connection="crm", object=what, by={"External_Id__c": "{{ record.client_id }}"})
        elif role == "erp":
            step.update(connection=erp, object="Project", action=what, key="{{ record.ref }}")
        steps.append(step)
    return {"steps": steps}


class Generator:
    def __init__(self, runs: int, exceptions: int, days: int = 90, seed: int = 12, now: datetime | None = None):
        self.total, self.exceptions, self.days = runs, exceptions, days
        self.random = random.Random(seed)
        self.now = now or timezone.now()
        failed_weight = max(STATUS_WEIGHTS[RunStatus.FAILED], math.ceil(10_000 * exceptions * 1.05 / max(runs, 1)))
        weights = {**STATUS_WEIGHTS, RunStatus.FAILED: failed_weight}
        weights[RunStatus.SUCCEEDED] = max(0, 10_000 - sum(w for s, w in weights.items() if s != RunStatus.SUCCEEDED))
        self.statuses, self.status_weights = list(weights), list(weights.values())
        self.failed_ids: list[int] = []

    def moments(self) -> list[datetime]:
        """Creation times over the period, sorted: weekdays and working hours busier."""
        r, out = self.random, []
        span = self.days * 86400
        while len(out) < self.total:
            at = self.now - timedelta(seconds=r.random() * span)
            busy = (0.35 if at.weekday() >= 5 else 1.0) * (1.0 if 7 <= at.hour < 19 else 0.4)
            if r.random() < busy:
                out.append(at)
        out.sort()
        return out

    def business_key(self, prefix: str) -> str:
        # Pareto: a few keys recur often (a busy project's hours), most appear a few times.
        n = min(int(self.random.paretovariate(1.1) * 37) % 60000, 59999)
        return f"{prefix}-{n:06d}"

    def rows(self, plans: list[FlowPlan], first_id: int) -> Iterator[tuple[str, tuple]]:
        """("run" | "step" | "exception", row) in insertion order."""
        r = self.random
        pick_plan = Picker(r, plans, [p.weight for p in plans])
        pick_status = Picker(r, self.statuses, self.status_weights)
        pick_trigger = Picker(r, *zip(*TRIGGERS, strict=True))
        pick_exception_state = Picker(r, *zip(*EXCEPTION_STATES, strict=True))
        made_exceptions = 0
        for offset, created in enumerate(self.moments()):
            run_id = first_id + offset
            plan = pick_plan()
            version = plan.versions[min(int(r.random() * 3.3), len(plan.versions) - 1)]
            status = pick_status()
            if status in ACTIVE and self.now - created > timedelta(days=2):
                status = RunStatus.SUCCEEDED  # old runs have ended
            if self.exceptions - made_exceptions >= self.total - offset:
                status = RunStatus.FAILED  # chance fell short: the last runs fail so --exceptions is met
            trigger = pick_trigger()
            retry_of = None
            if self.failed_ids and r.random() < RETRY_SHARE:
                trigger, retry_of = Trigger.RETRY, r.choice(self.failed_ids[-500:])
            key = self.business_key(plan.key_prefix)
            record = {"ref": key, "client_id": f"C-{r.randint(1, 900)}", "client": r.choice(CLIENTS)}
            record["hours"] = round(r.uniform(0.5, 9.5), 1)
            started = created + timedelta(milliseconds=r.randint(20, 2500))
            took = timedelta(milliseconds=int(r.lognormvariate(6.5, 0.8)))
            finished = None if status in ACTIVE else started + took
            if status == RunStatus.QUEUED:
                started = None
            failure = r.choice(FAILURES) if status == RunStatus.FAILED else None
            error = None
            if failure:
                message = failure[2].format(n=r.randint(1000, 99999))
                error = {"step_id": failure[0], "kind": failure[1], "message": message, "classification": failure[3]}
                self.failed_ids.append(run_id)
            yield (
                "run",
                self.run_row(
                    run_id, version, trigger, status, key, record, error, retry_of, created, started, finished
                ),
            )
            for step in self.step_rows(run_id, status, record, error, started or created, took):
                yield "step", step
            if failure and made_exceptions < self.exceptions:
                made_exceptions += 1
                state = pick_exception_state()
                yield "exception", self.exception_row(run_id, plan.flow, state, error, key, record, created, finished)

    def run_row(self, run_id, version, trigger, status, key, record, error, retry_of, created, started, finished):
        output = f'{{"remote_id": "R{run_id}"}}' if status == RunStatus.SUCCEEDED else None
        values = {
            "id": run_id,
            "flow_version_id": version.pk,
            "event_id": None,
            "sequence": 0,
            "trigger": trigger,
            "status": status,
            "business_key": key,
            "input": json.dumps(record),
            "state": None,
            "start_at": "",
            "resume": None,
            "error": json.dumps(error) if error else None,
            "output": output,
            "retry_of_id": retry_of,
            "chunked": False,
            "item": "",
            "is_test": False,
            "created_by_id": None,
            "lease_until": None,
            "fence": 1,
            "attempts": 1,
            "worker_losses": 0,
            "next_attempt_at": None,
            "enqueued_at": created,
            "created_at": created,
            "started_at": started,
            "finished_at": finished,
        }
        return tuple(values[c] for c in RUN_COLUMNS)

    def step_rows(self, run_id, status, record, error, at, took) -> Iterator[tuple]:
        if status == RunStatus.QUEUED:
            return
        stop = {
            RunStatus.FAILED: error["step_id"] if error else "post",
            RunStatus.WAITING_APPROVAL: "approve",
            RunStatus.WAITING_DELIVERY: "post",
            RunStatus.RUNNING: "to_canonical",
        }.get(status)
        each = took.total_seconds() * 1000 / len(STEPS)
        body = json.dumps(record)
        for step_id, kind, _, _ in STEPS:
            if step_id == stop:
                step_status = {
                    RunStatus.FAILED: StepStatus.FAILED,
                    RunStatus.WAITING_APPROVAL: StepStatus.WAITING,
                    RunStatus.WAITING_DELIVERY: StepStatus.WAITING,
                }.get(status)
                if step_status:
                    failed = json.dumps({"message": error["message"]}) if step_status == StepStatus.FAILED else None
                    yield (run_id, step_id, kind, step_status, body, None, failed, None, each, 1, at)
                return
            skipped = status == RunStatus.HALTED and step_id in ("approve", "post")
            output = None if skipped else _output(step_id, record, run_id, body)
            step_status = StepStatus.SKIPPED if skipped else StepStatus.SUCCEEDED
            yield (run_id, step_id, kind, step_status, body, output, None, None, each, 1, at)

    def exception_row(self, run_id, flow, state, error, key, record, created, finished):
        resolved = state in (ExceptionStatus.RESOLVED, ExceptionStatus.SKIPPED)
        last = finished or created
        values = {
            "run_id": run_id,
            "flow_id": flow.pk,
            "step_id": error["step_id"],
            "status": state,
            "classification": Classification.TRANSIENT
            if error["classification"] == "transient"
            else Classification.PERMANENT,
            "kind": error["kind"],
            "message": error["message"],
            "message_signature": signature(flow.key, error["step_id"], error["message"]),
            "field": "",
            "item": "",
            "business_key": key,
            "delivery_id": None,
            "assignee_id": None,
            "tags": "[]",
            "resolution_reason": "fixed in the target and retried" if resolved else "",
            "original_input": json.dumps(record),
            "input_revisions": "[]",
            "first_seen": created,
            "last_seen": last,
            "duplicate_count": int(self.random.paretovariate(2.5)),
            "resolved_by_id": None,
            "resolved_at": last + timedelta(hours=3) if resolved else None,
        }
        return tuple(values[c] for c in EXCEPTION_COLUMNS)


def _output(step_id: str, record: dict, run_id: int, body: str) -> str:
    if step_id == "to_canonical":
        return f'{{"project_key": "{record["ref"]}", "client": "{record["client"]}", "hours": {record["hours"]}}}'
    if step_id == "find_client":
        return f'{{"Id": "001{run_id:012d}", "Name": "{record["client"]}"}}'
    if step_id == "post":
        return f'{{"remote_id": "R{run_id}", "status": "created"}}'
    return body


def load(runs: int, exceptions: int, days: int = 90, seed: int = 12, batch: int = 20_000) -> Counts:
    """Write the history; one transaction, so an interrupted load leaves nothing behind."""
    now = timezone.now()
    counts = Counts()
    with transaction.atomic():
        plans = ensure_flows(now)
        first_id = (Run.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        generator = Generator(runs, exceptions, days, seed, now)
        writer = CopyWriter() if connection.vendor == "postgresql" else InsertWriter()
        writer.start()
        for kind, row in generator.rows(plans, first_id):
            writer.add(kind, row)
            setattr(counts, _PLURAL[kind], getattr(counts, _PLURAL[kind]) + 1)
            if writer.pending >= batch:
                writer.flush()
        writer.flush()
        writer.finish()
    return counts


_PLURAL = {"run": "runs", "step": "steps", "exception": "exceptions"}
TABLES = {
    "run": (Run, RUN_COLUMNS),
    "step": (StepRun, STEP_COLUMNS),
    "exception": (RunException, EXCEPTION_COLUMNS),
}


class CopyWriter:
    """Buffers rows per table and streams each full batch with COPY from a second thread, so
    the database stores one batch while Python generates the next (both on the one
    connection and transaction: psycopg serialises its use, and the main thread leaves the
    connection alone until finish())."""

    def __init__(self):
        self.buffers: dict[str, list[tuple]] = {kind: [] for kind in TABLES}
        self.batches: queue.Queue = queue.Queue(maxsize=2)
        self.failure: BaseException | None = None
        self.thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        return sum(len(rows) for rows in self.buffers.values())

    def start(self) -> None:
        """Skip the per-row foreign-key triggers for this transaction when the role may (a
        superuser): every id written here points at a row written before it or that exists,
        and deferred checks of millions of rows would otherwise dominate the load."""
        with connection.cursor() as cursor:
            try:
                with transaction.atomic():
                    cursor.execute("SET LOCAL session_replication_role = replica")
            except DatabaseError:
                pass  # not permitted: the checks run, the load is slower
        self.thread = threading.Thread(target=self._drain, args=(connection.connection,), daemon=True)
        self.thread.start()

    def add(self, kind: str, row: tuple) -> None:
        self.buffers[kind].append(row)

    def flush(self) -> None:
        if self.failure:
            raise self.failure
        if self.pending:
            self.batches.put(self.buffers)
            self.buffers = {kind: [] for kind in TABLES}

    def _drain(self, raw) -> None:
        while (batch := self.batches.get()) is not None:
            if self.failure:
                continue  # keep taking batches so the generator never blocks on a dead writer
            try:
                with raw.cursor() as cursor:
                    for kind in ("run", "step", "exception"):
                        if batch[kind]:
                            model, columns = TABLES[kind]
                            sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
                            with cursor.copy(sql) as copy:
                                for row in batch[kind]:
                                    copy.write_row(row)
            except BaseException as exc:  # handed to the main thread by flush() / finish()
                self.failure = exc

    def finish(self) -> None:
        """Wait for the last batch; move the id sequence past the ids chosen here; refresh
        the planner's statistics."""
        self.batches.put(None)
        self.thread.join()
        if self.failure:
            raise self.failure
        self.analyse()

    def analyse(self) -> None:
        """Move the id sequence past the ids chosen here; refresh the planner's statistics."""
        table = Run._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"  # noqa: S608 (table name from the model)
            )
            for model, _ in TABLES.values():
                cursor.execute(f"ANALYZE {model._meta.db_table}")


class InsertWriter(CopyWriter):
    """Batched INSERTs (executemany) for databases without COPY (the small volumes tests use). Plain SQL
    rather than bulk_create, which would stamp every row's created_at with now."""

    def flush(self) -> None:
        adapt = connection.ops.adapt_datetimefield_value
        with connection.cursor() as cursor:
            for kind in ("run", "step", "exception"):
                rows = self.buffers[kind]
                if not rows:
                    continue
                model, columns = TABLES[kind]
                marks = ", ".join(["%s"] * len(columns))
                sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
                cursor.executemany(sql, [[adapt(v) if isinstance(v, datetime) else v for v in row] for row in rows])
                rows.clear()

    def start(self) -> None:
        return None

    def finish(self) -> None:
        return None
