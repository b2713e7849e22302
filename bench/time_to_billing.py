"""Time to billing at scale (issue 13): N approved Kantata time entries → the reference flow
"time-to-billing" → NetSuite time bills, on PostgreSQL + Redis with two workers.

For each size: a fresh database, the Kantata sandbox seeded with N entries (the deterministic
firm), the crosswalk links of its consultants and projects, only the time-to-billing flow
published; then the web server (granian, serving the sandboxes) and two Celery workers
(`--concurrency 1` each) are started, and this process polls the flow page by page and runs
the dispatchers (as beat would) until every page is polled, every run has ended and every
time bill is in NetSuite. The flow gathers each group (project, consultant, month, billable
flag) across pages until 500 entries or an hour: once every page has filed its entries, the
groups still open are flushed as the periodic task would an hour later (the clock is moved
on), so the figure is the work, not the wait. It prints records per second end to end (first poll → last bill)
and the peak resident memory of each worker (main process + pool child, sampled every 0.2 s),
so the sizes show whether a worker's memory grows with the number of entries. The first size
is the baseline of the ratios.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_billing_bench REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/time_to_billing.py --sizes 1000,10000,100000 [--repeat 1]

The database named in DATABASE_URL is dropped and created again for every run; the Redis db
is emptied (FLUSHDB on that db only)."""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from processes import PYTHON, ROOT, free_port, start, stop, wait_for_port

FLOW = "time-to-billing"


def recreate_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    base = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    subprocess.run(["dropdb", *base, "--if-exists", "--force", name], check=True)
    subprocess.run(["createdb", *base, name], check=True)


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except ProcessLookupError:
                continue
    return pids


class MemorySampler(threading.Thread):
    """Peak RSS per worker (its process group: main process + pool child), every 0.2 s."""

    def __init__(self, workers: list[subprocess.Popen]):
        super().__init__(daemon=True)
        self.workers = workers
        self.peak_group = [0] * len(workers)  # KiB, whole worker
        self.peak_process = [0] * len(workers)  # KiB, its largest process
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for i, w in enumerate(self.workers):
                sizes = [rss_kb(pid) for pid in group_pids(w.pid)]
                self.peak_group[i] = max(self.peak_group[i], sum(sizes))
                self.peak_process[i] = max(self.peak_process[i], max(sizes, default=0))
            time.sleep(0.2)


def prepare(env: dict, size: int) -> None:
    """Migrate, then set the firm up in this process (Django configured from `env`)."""
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    from integrations.connections.demo import demo_values
    from integrations.connections.services import create_connection
    from integrations.crosswalk import demo as crosswalk_demo
    from integrations.flows.services import create_flow, publish
    from integrations.gallery.catalog import template
    from integrations.sandboxes.admin_api import reset_vendor

    for vendor in ("kantata", "netsuite"):
        create_connection("system:bench", name=vendor, kind=vendor, **demo_values(vendor))
    reset_vendor("kantata", size)
    reset_vendor("netsuite", "test")
    crosswalk_demo.seed(io.StringIO())
    t = template(FLOW)
    publish(create_flow("system:bench", key=t.key, name=t.name, definition=t.fresh_definition()), "system:bench")


def measure(size: int, env: dict, port: int, timeout: float) -> dict:
    from datetime import timedelta

    from django.db.models import Count
    from django.utils import timezone

    from integrations.deliveries.choices import TERMINAL_STATES
    from integrations.deliveries.dispatcher import dispatch_due as dispatch_deliveries
    from integrations.deliveries.dispatcher import sweep_expired as sweep_deliveries
    from integrations.deliveries.models import Delivery
    from integrations.flows.models import Flow
    from integrations.gallery.flows.time_to_billing import MAX_WAIT_SECONDS
    from integrations.runs.batch.accumulate import flush_due as flush_groups
    from integrations.runs.batch.chunks import dispatch_due as dispatch_chunks
    from integrations.runs.batch.chunks import sweep_expired as sweep_chunks
    from integrations.runs.choices import TERMINAL
    from integrations.runs.dispatch import dispatch_due, sweep_expired
    from integrations.runs.models import Run, RunException
    from integrations.sandboxes.models import SandboxRecord
    from integrations.triggers.polls import poll
    from tests.gallery.billing import expected_groups

    log = open(f"/tmp/sb-bench-ttb-{size}.log", "w")  # noqa: SIM115 - closed with the processes
    web = start(env, [".venv/bin/granian", "--interface", "wsgi", "studio.wsgi:application", "--host", "127.0.0.1",
                      "--port", str(port), "--workers", "2", "--blocking-threads", "4"], log)  # fmt: skip
    worker_args = [PYTHON, "-m", "celery", "-A", "studio", "worker", "--pool", "prefork", "--concurrency", "1",
                   "--queues", "default", "-l", "warning", "--without-heartbeat", "--without-gossip",
                   "--without-mingle"]  # fmt: skip
    workers = [start(env, [*worker_args, "--hostname", f"bench{i}@%h"], log) for i in range(2)]
    sampler = MemorySampler(workers)
    try:
        wait_for_port(port)
        time.sleep(4)  # the workers are consuming
        sampler.start()
        flow = Flow.objects.get(key=FLOW)
        runs = Run.objects.filter(flow_version__flow=flow)
        bills = Delivery.objects.filter(run__flow_version__flow=flow)
        t0, polled, last_print = time.monotonic(), False, 0.0
        while time.monotonic() - t0 < timeout:
            if not polled:
                polled = poll(flow.pk) == 0 and runs.exists()
            dispatch_due(), sweep_expired(), dispatch_chunks(), sweep_chunks()
            sweep_deliveries(), dispatch_deliveries()
            if polled and not runs.exclude(status__in=[*TERMINAL, "waiting-delivery"]).exists():
                # Every page has filed its entries: the groups still open are flushed as at
                # their max wait (an hour later; the clock is moved on, not waited for).
                while flush_groups(now=timezone.now() + timedelta(seconds=MAX_WAIT_SECONDS + 1)):
                    pass
            unfinished = runs.exclude(status__in=TERMINAL).count()
            unsent = bills.exclude(state__in=TERMINAL_STATES).count()
            now = time.monotonic() - t0
            if now - last_print >= 15:
                print(f"    {now:6.0f} s  pages {runs.count()}  unfinished runs {unfinished}  bills {bills.count()} "
                      f"(unsent {unsent})", flush=True)  # fmt: skip
                last_print = now
            if polled and not unfinished and not unsent:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"not done after {timeout:.0f} s")
        elapsed = time.monotonic() - t0
    finally:
        sampler.stop.set()
        stop([*workers, web])
        log.close()
    posted = SandboxRecord.objects.filter(vendor="netsuite", object_type="timeBill", external_id__startswith="tb:")
    ids = list(posted.values_list("external_id", flat=True))
    return {
        "size": size,
        "seconds": elapsed,
        "records_per_s": size / elapsed,
        "pages": runs.count(),
        "runs": dict(runs.values_list("status").annotate(n=Count("id")).order_by()),
        "bills": len(ids),
        "expected_bills": sum(g["bills"] for g in expected_groups(FLOW)[0].values()),
        "duplicates": len(ids) - len(set(ids)),
        "rejected": RunException.objects.filter(flow=flow).count(),
        "peak_worker_mib": [kb / 1024 for kb in sampler.peak_group],
        "peak_process_mib": [kb / 1024 for kb in sampler.peak_process],
    }


def one_run(size: int, database_url: str, redis_url: str, timeout: float) -> dict:
    """A child process per measurement: Django is set up once per fresh database."""
    out = subprocess.run(
        [PYTHON, __file__, "--one", str(size), "--timeout", str(timeout)],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url},
        capture_output=True, text=True,
    )  # fmt: skip
    sys.stdout.write(out.stdout)
    if out.returncode:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"size {size} failed")
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return eval(line[len("RESULT ") :])  # noqa: S307 - our own repr of a dict of numbers


def child(size: int, timeout: float) -> None:
    database_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    recreate_database(database_url)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "studio.settings", "SWITCHBOARD_SANDBOX_ORIGIN":
           f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING", "SWITCHBOARD_LEASE_SECONDS": "120"}  # fmt: skip
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    started = time.monotonic()
    prepare(env, size)
    print(f"  size {size}: prepared in {time.monotonic() - started:.0f} s", flush=True)
    print("RESULT " + repr(measure(size, env, port, timeout)), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        child(args.one, args.timeout)
        return 0
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not redis_url:
        raise SystemExit("set DATABASE_URL (PostgreSQL; the database is recreated) and REDIS_URL")
    results: dict[int, list[dict]] = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        for n in range(args.repeat):
            print(f"size {size}, run {n + 1}/{args.repeat}", flush=True)
            result = one_run(size, database_url, redis_url, args.timeout)
            results.setdefault(size, []).append(result)
            print(f"  {result}", flush=True)
    base = None
    print("\nsize      records/s (median)  ratio   peak worker MiB (max of 2)  ratio   bills (expected)  duplicates")
    for size, rows in results.items():
        rate = statistics.median(r["records_per_s"] for r in rows)
        memory = statistics.median(max(r["peak_worker_mib"]) for r in rows)
        base = base or (rate, memory)
        print(f"{size:>7}   {rate:>12.0f}       {rate / base[0]:5.2f}   {memory:>16.0f}           "
              f"{memory / base[1]:5.2f}   {rows[0]['bills']:>6} ({rows[0]['expected_bills']})  "
              f"{max(r['duplicates'] for r in rows)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
