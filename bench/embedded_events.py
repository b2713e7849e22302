"""Benchmark: one-event runs on the embedded default (SQLite and the filesystem broker), with
the worker `make run` starts (Procfile: `celery worker --concurrency 2 --queues default`).

Issue 15's target: at least 50 runs/s. Each event maps 10 fields and posts once through the
ledger to a local ERP simulator (the same flow as `bench/pipeline.py`'s one-event flow); a
run counts when it has succeeded. This process stores the events one after another, as the
web process would, rings their doorbells and runs the dispatcher every 2 s (as beat would).
Reported per round: runs/s from the first event stored to the last run succeeded, and p50 /
p95 from an event stored to its posting done.

    .venv/bin/python bench/embedded_events.py --events 1000 --rounds 3

It uses a scratch folder of its own (`--var`, emptied first): database, broker and logs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def one_round(pipeline, count: int) -> tuple[float, list[float]]:
    from integrations.deliveries.models import Delivery
    from integrations.runs.dispatch import dispatch_due

    prefix = f"embedded-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    pipeline.ingest(prefix, count)
    last_beat = [0.0]

    def beat() -> None:  # beat's cadence for the dispatcher
        if time.monotonic() - last_beat[0] >= 2:
            dispatch_due()
            last_beat[0] = time.monotonic()

    pipeline.wait_finished(prefix, count, 600, beat)
    elapsed = time.perf_counter() - started
    deliveries = Delivery.objects.filter(run__in=pipeline.runs_of(prefix))
    rows = deliveries.values_list("run__event__received_at", "succeeded_at")
    return count / elapsed, [(done - accepted).total_seconds() for accepted, done in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--var", default="/tmp/switchboard-bench-embedded", help="scratch folder (emptied)")
    args = parser.parse_args()

    var = Path(args.var)
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    for name in ("DATABASE_URL", "REDIS_URL"):  # the embedded default: SQLite and the filesystem broker
        os.environ.pop(name, None)
    os.environ.update(SWITCHBOARD_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="studio.settings", LOG_LEVEL="WARNING")

    from processes import start, stop

    from tests.reliability.harness import Simulator

    simulator = Simulator()
    os.environ["SWITCHBOARD_ALLOW_PRIVATE_ORIGINS"] = simulator.url
    import django

    django.setup()
    import pipeline

    procs = []
    try:
        pipeline.setup(simulator.url)  # migrates the scratch database, creates the flow
        worker_args = [str(ROOT / ".venv/bin/celery"), "-A", "studio", "worker", "--loglevel", "WARNING"]
        worker_args += ["--concurrency", "2", "--queues", "default"]
        procs.append(start(dict(os.environ), worker_args, (var / "worker.log").open("w")))
        time.sleep(10)  # worker boot
        rates, latencies = [], []
        for n in range(args.rounds):
            rate, lat = one_round(pipeline, args.events)
            rates.append(rate)
            latencies += lat
            p50, p95 = percentile(lat, 0.5), percentile(lat, 0.95)
            print(f"round {n + 1}: {rate:.1f} runs/s; stored -> posted p50 {p50:.2f} s, p95 {p95:.2f} s", flush=True)
    finally:
        stop(procs)
        simulator.stop()
    median = statistics.median(rates)
    print(f"embedded default, {args.events} one-event runs per round: median {median:.1f} runs/s (target >= 50)")
    return 0 if median >= 50 else 1


if __name__ == "__main__":
    sys.exit(main())
