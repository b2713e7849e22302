"""Benchmark 3: the runtime pipeline through a real Celery worker vs the same work in process.

Two flows are measured. The batch flow (`--batch-records`, default 20,000): ONE event carries
a page of time entries; a `for_each` flow maps 10 fields, validates, batches by project and
posts one billing line per project group to the ERP simulator. Its run is split into chunks
(`--chunk-size`) that the workers execute in memory and write in bulk. Variants, alternating:

- batch in-process: this process executes the split, every chunk (`runs.batch.chunks.execute`),
  the groups and the postings (`deliveries.sender.deliver_chunk`) in a loop, no broker;
- batch worker: this process only ingests the event and runs the dispatchers/sweepers
  (as beat would); `celery worker --pool prefork --concurrency 2` does the rest.

Reported: records/s of each (median), the ratio worker / in-process (target >= 0.6), and the
pure compiled-plan rate (the engine alone on the same records, no database) for reference.

The one-event flow: each record → one run of a published flow (map 10 fields, deliver through the
ledger) → one posting at the ERP simulator → the run resumed and finished. Two variants,
alternating, `--rounds` times each, on PostgreSQL + Redis:

- in-process: one Python process ingests the events, executes every run, sends the
  deliveries (chunks of 100) and resumes the runs, calling the services directly;
- worker: this process only ingests events and runs the dispatchers (as beat would);
  `celery worker --pool prefork --concurrency 2` executes runs and sends deliveries. The
  events are stored by `--producers` threads at once (default 1: serially), as concurrent
  webhook requests reach a web server; with one, the end-to-end figure cannot pass what one
  thread stores per second while the worker and PostgreSQL share the same cores.

Reported: events/s of each (median), their ratio (shown, not a target: issue 3's 0.6 is for the
batch flow; one-event runs are reported with their latency), and for the worker variant p50/p95
latency from event accepted (stored) to delivery done. `--drain N`: the worker alone, on N
one-event runs stored first and rung at once. `--in-process-records`: a smaller in-process
reference per round, when the worker variant is sized for a sustained figure.

Needs a database of its own (it writes flows, events, runs and deliveries):

    createdb -h 127.0.0.1 -U postgres sb_bench_pipeline
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench_pipeline \\
    REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/pipeline.py --rounds 3 --records 300
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import redis
from django import db

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # one log line per HTTP call would be measured too

FIELDS = [("external_ref", "$.id"), ("amount", "$.amount"), ("customer", "$.customer.name")]
FIELDS += [(f"line_{i}", f"$.lines[{i}].amount") for i in range(4)]
FIELDS += [("currency", "$.currency"), ("region", "$.customer.region"), ("po", "$.po")]


def flow_definition() -> dict:
    return {
        "trigger": {"type": "event", "connection": "crm", "event": "invoice.approved"},
        "steps": [
            {"id": "shape", "type": "map", "fields": [{"to": to, "from": src} for to, src in FIELDS]},
            {
                "id": "post",
                "type": "deliver",
                "connection": "erp",
                "object": "postings",
                "action": "create",
                "key": "invoice:{{ record.external_ref }}",
                "external_id_field": "external_ref",
                "external_id": "{{ record.external_ref }}",
            },
        ],
    }


def payload(ref: str, i: int) -> dict:
    return {
        "id": ref,
        "amount": 100 + i,
        "currency": "EUR",
        "po": f"PO-{i}",
        "customer": {"name": f"Client {i % 17}", "region": "EMEA"},
        "lines": [{"amount": i + n} for n in range(4)],
    }


BILLING_FIELDS = [
    ("entry_id", "$.id"),
    ("worker_id", "$.worker.id"),
    ("worker_name", "$.worker.name"),
    ("project", "$.project.code"),
    ("project_name", "$.project.name"),
    ("date", "$.date"),
    ("hours", "$.hours"),
    ("rate", "$.rate.amount"),
    ("currency", "$.rate.currency"),
    ("task", "$.task"),
]
PROJECTS = 20


def billing_definition(chunk_size: int) -> dict:
    return {
        "trigger": {"type": "event", "connection": "crm", "event": f"time.page.c{chunk_size}"},
        "for_each": {"path": "$.entries", "chunk_size": chunk_size},
        "steps": [
            {
                "id": "shape",
                "type": "map",
                "fields": [{"to": to, "from": src, "required": True} for to, src in BILLING_FIELDS],
            },
            {
                "id": "check",
                "type": "validate",
                "rules": [
                    {
                        "when": "record.hours <= 0 or record.hours > 24",
                        "message": "hours out of range",
                        "field": "hours",
                    }
                ],
            },
            {
                "id": "by_project",
                "type": "batch",
                "group_key": "{{ record.project }}",
                "size": 10000,
                "max_wait_seconds": 3600,
            },
            {
                "id": "bill",
                "type": "deliver",
                "connection": "erp",
                "object": "postings",
                "action": "create",
                "key": "bill:{{ record.batch_id }}",
                "external_id_field": "external_ref",
                "external_id": "{{ record.batch_id }}",
            },
        ],
    }


def time_entries(prefix: str, count: int) -> list[dict]:
    return [
        {
            "id": f"{prefix}-{i}",
            "worker": {"id": f"W{i % 50}", "name": f"Consultant {i % 50}"},
            "project": {"code": f"PRJ-{i % PROJECTS}", "name": f"Project {i % PROJECTS}"},
            "date": f"2026-11-{1 + i % 28:02d}",
            "hours": 1 + i % 8,
            "rate": {"amount": 150 + i % 5 * 10, "currency": "EUR"},
            "task": "Delivery",
        }
        for i in range(count)
    ]


def setup(simulator_url: str, chunk_size: int = 500) -> None:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from integrations.connections.models import Connection
    from integrations.flows.models import Flow
    from integrations.flows.services import create_flow, publish

    call_command("migrate", verbosity=0)
    Connection.objects.get_or_create(
        name="crm", defaults={"kind": "generic_webhook", "base_url": "https://crm.example.com"}
    )
    erp, _ = Connection.objects.get_or_create(name="erp", defaults={"kind": "generic_rest", "base_url": simulator_url})
    erp.base_url = simulator_url
    erp.config = {
        "auth_type": "none",
        "objects": {"postings": {"path": "/postings", "records_path": "$.data", "external_id_field": "external_ref"}},
    }
    erp.max_concurrency = 8
    erp.save()
    if not Flow.objects.filter(key="bench-invoices").exists():
        user, _ = User.objects.get_or_create(username="bench-analyst")
        user.groups.add(Group.objects.get(name="Analyst"))
        flow = create_flow(user, key="bench-invoices", name="Bench invoices", definition=flow_definition())
        publish(flow, user)
    billing_key = f"bench-billing-{chunk_size}"
    if not Flow.objects.filter(key=billing_key).exists():
        user = User.objects.get(username="bench-analyst")
        flow = create_flow(user, key=billing_key, name="Bench billing", definition=billing_definition(chunk_size))
        publish(flow, user)


def ingest(prefix: str, count: int, per_second: float | None = None, producers: int = 1) -> None:
    """Store `count` events as fast as possible, or paced at `per_second`. `producers` > 1:
    that many threads store them at once, as concurrent webhook requests arrive at a web
    server (each thread its own database connection); paced runs use one."""
    from integrations.events.services import ingest_event

    def store(indices) -> None:
        started = time.monotonic()
        try:
            for n, i in enumerate(indices):
                if per_second:
                    time.sleep(max(0.0, started + n / per_second - time.monotonic()))
                ref = f"{prefix}-{i}"
                ingest_event(source="crm", type="invoice.approved", external_id=ref, payload=payload(ref, i))
        finally:
            if producers > 1:
                db.connection.close()

    if producers <= 1 or per_second:
        store(range(count))
        return
    threads = [threading.Thread(target=store, args=(range(k, count, producers),)) for k in range(producers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def runs_of(prefix: str):
    from integrations.runs.models import Run

    return Run.objects.filter(event__external_id__startswith=f"{prefix}-")


UNFINISHED = ("queued", "running", "waiting-delivery", "waiting-approval", "waiting-batch", "waiting-chunks")


def beater():
    """A callable that runs the dispatchers and sweepers at beat's cadence (every 2 s), as the
    deployed beat does: what a lost or skipped doorbell leaves queued is found by them."""
    from integrations.deliveries.dispatcher import dispatch_due as dispatch_deliveries
    from integrations.deliveries.dispatcher import sweep_expired as sweep_deliveries
    from integrations.runs.dispatch import dispatch_due as dispatch_runs
    from integrations.runs.dispatch import sweep_expired as sweep_runs

    last = [time.monotonic()]

    def beat() -> None:
        if time.monotonic() - last[0] >= 2:
            dispatch_runs(), sweep_runs(), dispatch_deliveries(), sweep_deliveries()
            last[0] = time.monotonic()

    return beat


def wait_finished(prefix: str, count: int, timeout: float, beat=None) -> None:
    """Until every run of `prefix` has finished, looked at every 0.2 s; then all must have
    succeeded. Only the unfinished runs are counted (status index, within the runs' id range):
    counting the succeeded ones through their events read every event stored on each look,
    which cost the database more with every round than some of the work measured."""
    from integrations.runs.models import Run

    ids = list(runs_of(prefix).values_list("pk", flat=True))
    assert len(ids) == count, f"{len(ids)} runs for {count} events"
    window = Run.objects.filter(pk__gte=min(ids), pk__lte=max(ids))
    deadline = time.monotonic() + timeout
    while window.filter(status__in=UNFINISHED).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{prefix}: not finished in {timeout:.0f} s")
        if beat:
            beat()
        time.sleep(0.2)
    done = window.filter(status="succeeded").count()
    assert done == count, f"{prefix}: {done}/{count} runs succeeded"


def broker_quiet(timeout: float = 60) -> None:
    """Until the worker's run lanes hold no message: a doorbell still queued from the worker
    round before would claim the in-process variant's runs (a message claims its lane's due
    runs, whichever ids it names), and the worker, not this process, would run them."""
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        keys = [k for k in broker.keys("*") if k.split(b"\x06")[0] in (b"default", b"bulk")]
        if not any(broker.type(k) == b"list" and broker.llen(k) for k in keys):
            break
        time.sleep(0.2)
    time.sleep(1.0)  # a message taken just now: its batch ends


def in_process(count: int) -> float:
    """Records/s with every step called directly in this process, no broker."""
    from integrations.deliveries import services as ledger_services
    from integrations.deliveries.models import Delivery
    from integrations.deliveries.sender import deliver_chunk
    from integrations.runs import doorbell
    from integrations.runs import services as run_services

    prefix = f"inproc-{uuid.uuid4().hex[:8]}"
    saved = doorbell.enqueue_runs, ledger_services._flush
    doorbell.enqueue_runs = lambda *ids, **options: None
    ledger_services._flush = lambda: setattr(ledger_services._buffer, "ids", [])
    broker_quiet()
    try:
        started = time.perf_counter()
        ingest(prefix, count)
        for run_id in runs_of(prefix).values_list("pk", flat=True):
            run_services.execute_run(run_id)
        ids = list(Delivery.objects.filter(run__in=runs_of(prefix)).order_by("id").values_list("pk", flat=True))
        for i in range(0, len(ids), 100):
            deliver_chunk(ids[i : i + 100])
        for run_id in runs_of(prefix).values_list("pk", flat=True):
            run_services.execute_run(run_id)
        elapsed = time.perf_counter() - started
    finally:
        doorbell.enqueue_runs, ledger_services._flush = saved
    done = runs_of(prefix).filter(status="succeeded").count()
    assert done == count, f"in-process: {done}/{count} runs succeeded"
    return count / elapsed


def through_worker(count: int, per_second: float | None = None, producers: int = 1) -> tuple[float, list[float]]:
    """Records/s and accepted→delivered latencies (s) with a real worker doing the work.

    Unpaced, latency includes the backlog (events arrive faster than the worker drains);
    paced below capacity, it is the latency of one event through the runtime."""
    from integrations.deliveries.models import Delivery

    prefix = f"worker-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    ingest(prefix, count, per_second, producers)
    wait_finished(prefix, count, 600, beater())
    elapsed = time.perf_counter() - started
    rows = Delivery.objects.filter(run__in=runs_of(prefix)).values_list("run__event__received_at", "succeeded_at")
    latencies = [(done - accepted).total_seconds() for accepted, done in rows]
    return count / elapsed, latencies


def drain(count: int) -> float:
    """Runs/s of the worker alone: `count` one-event runs stored with their doorbells held,
    then rung at once (as a poll page or a replay rings), until every one has succeeded."""
    from integrations.runs import doorbell

    prefix, ring = f"drain-{uuid.uuid4().hex[:8]}", doorbell.enqueue_runs
    doorbell.enqueue_runs = lambda *ids, **options: None
    try:
        ingest(prefix, count)
    finally:
        doorbell.enqueue_runs = ring
    started = time.perf_counter()
    ring(list(runs_of(prefix).values_list("pk", flat=True)))
    wait_finished(prefix, count, 600, beater())
    return count / (time.perf_counter() - started)


def billing_run(prefix: str):
    from integrations.events.services import ingest_event

    entries = time_entries(prefix, BATCH["n"])
    event_type = f"time.page.c{BATCH['chunk_size']}"  # one flow per chunk size listens to its own type
    result = ingest_event(source="crm", type=event_type, external_id=prefix, payload={"entries": entries})
    (run,) = result.runs
    return run


BATCH = {"n": 0, "chunk_size": 500}
FINISHED = ("succeeded", "failed")


def batch_in_process(count: int) -> float:
    """Records/s of the batch flow with the split, the chunks, the groups and the postings
    called in a loop in this process (the same code the workers run), no broker."""
    from integrations.deliveries import services as ledger_services
    from integrations.deliveries.models import Delivery
    from integrations.deliveries.sender import deliver_chunk
    from integrations.runs import doorbell
    from integrations.runs import services as run_services
    from integrations.runs.batch import chunks
    from integrations.runs.models import Run, RunChunk

    BATCH["n"] = count
    prefix = f"bill-inproc-{uuid.uuid4().hex[:8]}"
    saved = doorbell.enqueue_runs, doorbell.enqueue_chunks, ledger_services._flush
    doorbell.enqueue_runs = doorbell.enqueue_chunks = lambda *ids, **options: None
    ledger_services._flush = lambda: setattr(ledger_services._buffer, "ids", [])
    try:
        started = time.perf_counter()
        run = billing_run(prefix)
        run_services.execute_run(run.pk)  # split
        for chunk_id in RunChunk.objects.filter(run=run).order_by("index").values_list("pk", flat=True):
            chunks.execute(chunk_id)
        run_services.execute_run(run.pk)  # groups → deliveries requested in bulk
        ids = list(Delivery.objects.filter(run=run).order_by("id").values_list("pk", flat=True))
        for i in range(0, len(ids), 100):
            deliver_chunk(ids[i : i + 100])  # the last one to land finishes the run
        elapsed = time.perf_counter() - started
    finally:
        doorbell.enqueue_runs, doorbell.enqueue_chunks, ledger_services._flush = saved
    run = Run.objects.get(pk=run.pk)
    assert run.status == "succeeded" and run.output["succeeded"] == count, (run.status, run.output)
    return count / elapsed


def batch_through_worker(count: int) -> float:
    """Records/s of the batch flow with a real worker doing the work (event stored → run done)."""
    from integrations.deliveries.dispatcher import dispatch_due as dispatch_deliveries
    from integrations.deliveries.dispatcher import sweep_expired as sweep_deliveries
    from integrations.runs.batch.chunks import dispatch_due as dispatch_chunks
    from integrations.runs.batch.chunks import sweep_expired as sweep_chunks
    from integrations.runs.dispatch import dispatch_due as dispatch_runs
    from integrations.runs.dispatch import sweep_expired as sweep_runs
    from integrations.runs.models import Run

    BATCH["n"] = count
    started = time.perf_counter()
    run = billing_run(f"bill-worker-{uuid.uuid4().hex[:8]}")
    deadline, last_beat = time.monotonic() + 900, time.monotonic()
    while Run.objects.filter(pk=run.pk).values_list("status", flat=True).get() not in FINISHED:
        if time.monotonic() > deadline:
            raise SystemExit("batch worker variant did not finish in 15 minutes")
        if time.monotonic() - last_beat >= 2:
            dispatch_runs(), sweep_runs(), dispatch_chunks(), sweep_chunks()
            dispatch_deliveries(), sweep_deliveries()
            last_beat = time.monotonic()
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    run = Run.objects.get(pk=run.pk)
    assert run.status == "succeeded" and run.output["succeeded"] == count, (run.status, run.output)
    return count / elapsed


def plan_only(count: int, chunk_size: int) -> float:
    """Records/s of the compiled plan alone (engine, no database) on the same records."""
    from integrations.engine import PENDING, DeliveryResult, compile_flow, run

    class Effects:
        def batch(self, step, group_key, record):
            return PENDING

        def deliver(self, step, request):
            return DeliveryResult(status="succeeded")

    plan, effects, records = compile_flow(billing_definition(chunk_size)), Effects(), time_entries("plan", count)
    started = time.perf_counter()
    for record in records:
        run(plan, record, effects)
    return count / (time.perf_counter() - started)


def measure_batch(args) -> bool:
    BATCH["chunk_size"] = args.chunk_size
    in_rates, worker_rates = [], []
    for n in range(args.rounds):
        in_rates.append(batch_in_process(args.batch_records))
        worker_rates.append(batch_through_worker(args.batch_records))
        print(f"batch round {n + 1}: in-process {in_rates[-1]:.0f}/s, worker {worker_rates[-1]:.0f}/s", flush=True)
    ratios = [w / i for w, i in zip(worker_rates, in_rates, strict=True)]
    print(f"batch flow, {args.batch_records} records in one event, chunks of {args.chunk_size}:")
    plan_rate = plan_only(args.batch_records, args.chunk_size)
    print(f"  compiled plan alone (engine, no database): {plan_rate:.0f} records/s")
    print(f"  in-process median records/s: {statistics.median(in_rates):.0f}")
    print(f"  worker     median records/s: {statistics.median(worker_rates):.0f}")
    print(f"  ratio worker/in-process (median of per-round ratios): {statistics.median(ratios):.2f} (target >= 0.6)")
    return statistics.median(ratios) >= 0.6


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--paced", type=int, default=40, help="events for the paced latency run")
    parser.add_argument("--paced-rate", type=float, default=2.0, help="events per second in the paced run")
    parser.add_argument("--batch-records", type=int, default=20000, help="records in the batch flow's event")
    parser.add_argument("--chunk-size", type=int, default=500, help="for_each.chunk_size of the batch flow")
    parser.add_argument("--only", choices=["batch", "single"], help="measure one flow only")
    parser.add_argument("--drain", type=int, default=0, help="also time the worker alone on this many queued runs")
    parser.add_argument(
        "--producers", type=int, default=1, help="threads storing events at once in the worker variant (1: serially)"
    )
    parser.add_argument(
        "--in-process-records", type=int, help="events of the in-process reference per round (default: --records)"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        print("set DATABASE_URL (PostgreSQL, a database of its own) and REDIS_URL; see the docstring")
        return 2

    from tests.reliability.harness import Simulator, Worker

    simulator = Simulator()
    os.environ["SWITCHBOARD_ALLOW_PRIVATE_ORIGINS"] = simulator.url
    import django

    django.setup()
    from django.conf import settings

    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = [simulator.url]
    try:
        setup(simulator.url, args.chunk_size)
    except BaseException:
        simulator.stop()
        raise
    worker = Worker(
        redis_url=os.environ["REDIS_URL"],
        env={
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "SWITCHBOARD_ALLOW_PRIVATE_ORIGINS": simulator.url,
            "LOG_LEVEL": "WARNING",
        },
    ).start()
    try:
        time.sleep(8)  # worker boot
        batch_ok = measure_batch(args) if args.only != "single" and args.batch_records else True
        if args.only == "batch":
            return 0 if batch_ok else 1
        in_rates, worker_rates, latencies = [], [], []
        for n in range(args.rounds):
            in_rates.append(in_process(args.in_process_records or args.records))
            rate, lat = through_worker(args.records, producers=args.producers)
            worker_rates.append(rate)
            latencies += lat
            print(f"round {n + 1}: in-process {in_rates[-1]:.1f}/s, worker {rate:.1f}/s")
        _rate, paced = through_worker(args.paced, args.paced_rate) if args.paced else (0.0, [])
        drains = [drain(args.drain) for _ in range(args.rounds)] if args.drain else []
    finally:
        worker.stop()
        simulator.stop()
    ratios = [w / i for w, i in zip(worker_rates, in_rates, strict=True)]
    print(f"in-process median events/s: {statistics.median(in_rates):.1f}")
    print(f"worker     median events/s: {statistics.median(worker_rates):.1f}")
    print(f"ratio worker/in-process (median of per-round ratios): {statistics.median(ratios):.2f} (no target)")
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    print(f"accepted -> delivered latency, unpaced (incl. backlog): p50 {p50:.2f} s, p95 {p95:.2f} s")
    if drains:
        rounds = ", ".join(f"{rate:.1f}" for rate in drains)
        median = statistics.median(drains)
        print(f"worker alone, {args.drain} queued runs rung at once: median {median:.1f} runs/s ({rounds})")
    if paced:
        p50, p95 = percentile(paced, 0.5), percentile(paced, 0.95)
        print(
            f"paced {args.paced_rate:g} events/s x {args.paced}: accepted -> delivered p50 {p50:.2f} s, p95 {p95:.2f} s"
        )
    return 0 if batch_ok else 1


if __name__ == "__main__":
    sys.exit(main())
