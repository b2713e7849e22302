"""Benchmark 3: the runtime pipeline through a real Celery worker vs the same work in process.

Each record is one event → one run of a published flow (map 10 fields, deliver through the
ledger) → one posting at the ERP simulator → the run resumed and finished. Two variants,
alternating, `--rounds` times each, on PostgreSQL + Redis:

- in-process: one Python process ingests the events, executes every run, sends the
  deliveries (chunks of 100) and resumes the runs, calling the services directly;
- worker: this process only ingests events and runs the dispatchers (as beat would);
  `celery worker --pool prefork --concurrency 2` executes runs and sends deliveries.

Reported: records/s of each (median), the ratio worker / in-process (target ≥ 0.6), and for
the worker variant p50/p95 latency from event accepted (stored) to delivery done.

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
import time
import uuid
from pathlib import Path

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


def setup(simulator_url: str) -> None:
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


def ingest(prefix: str, count: int, per_second: float | None = None) -> None:
    """Store `count` events as fast as possible, or paced at `per_second`."""
    from integrations.events.services import ingest_event

    started = time.monotonic()
    for i in range(count):
        if per_second:
            time.sleep(max(0.0, started + i / per_second - time.monotonic()))
        ref = f"{prefix}-{i}"
        ingest_event(source="crm", type="invoice.approved", external_id=ref, payload=payload(ref, i))


def runs_of(prefix: str):
    from integrations.runs.models import Run

    return Run.objects.filter(event__external_id__startswith=f"{prefix}-")


def in_process(count: int) -> float:
    """Records/s with every step called directly in this process, no broker."""
    from integrations.deliveries import services as ledger_services
    from integrations.deliveries.models import Delivery
    from integrations.deliveries.sender import deliver_chunk
    from integrations.runs import services as run_services

    prefix = f"inproc-{uuid.uuid4().hex[:8]}"
    saved = run_services.enqueue, ledger_services._flush
    run_services.enqueue = lambda ids: None
    ledger_services._flush = lambda: setattr(ledger_services._buffer, "ids", [])
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
        run_services.enqueue, ledger_services._flush = saved
    done = runs_of(prefix).filter(status="succeeded").count()
    assert done == count, f"in-process: {done}/{count} runs succeeded"
    return count / elapsed


def through_worker(count: int, per_second: float | None = None) -> tuple[float, list[float]]:
    """Records/s and accepted→delivered latencies (s) with a real worker doing the work.

    Unpaced, latency includes the backlog (events arrive faster than the worker drains);
    paced below capacity, it is the latency of one event through the runtime."""
    from integrations.deliveries.dispatcher import dispatch_due as dispatch_deliveries
    from integrations.deliveries.dispatcher import sweep_expired as sweep_deliveries
    from integrations.deliveries.models import Delivery
    from integrations.runs.dispatch import dispatch_due as dispatch_runs
    from integrations.runs.dispatch import sweep_expired as sweep_runs

    prefix = f"worker-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    ingest(prefix, count, per_second)
    deadline = time.monotonic() + 600
    last_beat = 0.0
    while runs_of(prefix).filter(status="succeeded").count() < count:
        if time.monotonic() > deadline:
            raise SystemExit("worker variant did not finish in 10 minutes")
        if time.monotonic() - last_beat >= 2:  # beat's cadence for the dispatchers and sweepers
            dispatch_runs(), sweep_runs(), dispatch_deliveries(), sweep_deliveries()
            last_beat = time.monotonic()
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    rows = Delivery.objects.filter(run__in=runs_of(prefix)).values_list("run__event__received_at", "succeeded_at")
    latencies = [(done - accepted).total_seconds() for accepted, done in rows]
    return count / elapsed, latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--paced", type=int, default=40, help="events for the paced latency run")
    parser.add_argument("--paced-rate", type=float, default=2.0, help="events per second in the paced run")
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
    setup(simulator.url)
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
        in_rates, worker_rates, latencies = [], [], []
        for n in range(args.rounds):
            in_rates.append(in_process(args.records))
            rate, lat = through_worker(args.records)
            worker_rates.append(rate)
            latencies += lat
            print(f"round {n + 1}: in-process {in_rates[-1]:.1f}/s, worker {rate:.1f}/s")
        _rate, paced = through_worker(args.paced, args.paced_rate) if args.paced else (0.0, [])
    finally:
        worker.stop()
        simulator.stop()
    ratios = [w / i for w, i in zip(worker_rates, in_rates, strict=True)]
    print(f"in-process median records/s: {statistics.median(in_rates):.1f}")
    print(f"worker     median records/s: {statistics.median(worker_rates):.1f}")
    print(f"ratio worker/in-process (median of per-round ratios): {statistics.median(ratios):.2f} (target >= 0.6)")
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    print(f"accepted -> delivered latency, unpaced (incl. backlog): p50 {p50:.2f} s, p95 {p95:.2f} s")
    if paced:
        p50, p95 = percentile(paced, 0.5), percentile(paced, 0.95)
        print(
            f"paced {args.paced_rate:g} events/s x {args.paced}: accepted -> delivered p50 {p50:.2f} s, p95 {p95:.2f} s"
        )
    return 0 if statistics.median(ratios) >= 0.6 else 1


if __name__ == "__main__":
    sys.exit(main())
