"""The first demo poll after `make run`, timed on the embedded default (issue 15).

On a fresh SQLite database and filesystem broker in a work directory, does what `make run`
does (migrate, sync_schedules, seed_demo, then web + worker + beat from the Procfile under
studio/supervisor.py, on a free port), then sends the poll of the demo flow
"time-to-billing" (as beat does at the next quarter hour) and times until the poll
has read every page, every run of the flow has ended (succeeded, or failed with an
exception: entries that are not approved), no batch group is still gathering and every time
bill asked for is in the NetSuite sandbox (its delivery succeeded). Prints the figures every few seconds and at the
end; exits 1 if it took longer than --target seconds (180: the issue's 3 minutes).

    .venv/bin/python bench/demo_poll.py [--work /tmp/sb-bench-demo-poll] [--target 180]

Environment variables given to this script reach the studio processes (for example
SWITCHBOARD_BROKER_POLLING_INTERVAL=1.0 to compare with kombu's default polling).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from processes import PYTHON, ROOT, free_port, start, stop, wait_for_port

FLOW_KEY = "time-to-billing"  # the gallery's reference flow that seed_demo installs (was approved-time-to-netsuite)
POLL_TASK = "integrations.flows.tasks.poll_flow"


def studio_env(work: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        SWITCHBOARD_VAR_DIR=str(work / "var"),
        DJANGO_SETTINGS_MODULE="studio.settings",
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_PORT=str(port),  # as the Makefile exports them
        SWITCHBOARD_SANDBOX_ORIGIN=f"http://127.0.0.1:{port}",
    )
    return env


def prepare(env: dict) -> None:
    for command in (["migrate", "--noinput", "-v", "0"], ["sync_schedules"], ["seed_demo"]):
        subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default="/tmp/sb-bench-demo-poll")
    parser.add_argument("--target", type=float, default=180)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    port = free_port()
    env = studio_env(work, port)
    started = time.monotonic()
    prepare(env)
    print(f"prepared a fresh embedded studio in {time.monotonic() - started:.0f} s ({work})", flush=True)

    os.environ.update(env)  # this process reads the same database and sends to the same broker
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db.models import Count

    from integrations.deliveries.choices import TERMINAL_STATES
    from integrations.deliveries.models import Delivery
    from integrations.flows.models import Flow, Watermark
    from integrations.runs.choices import TERMINAL
    from integrations.runs.models import BatchGroup, Run
    from studio.celery import app

    log = (work / "studio.log").open("w")
    supervisor = start(env, [PYTHON, "-m", "studio.supervisor", "start", "--env", "/dev/null", "-f", "Procfile"], log)
    try:
        wait_for_port(port)
        time.sleep(5)  # the worker is consuming
        flow = Flow.objects.get(key=FLOW_KEY)
        runs = Run.objects.filter(flow_version__flow=flow)
        t0 = time.monotonic()
        app.send_task(POLL_TASK, args=[flow.pk])
        max_queued, last_print, finished_at = 0, 0.0, None
        while time.monotonic() - t0 < args.timeout:
            counts = dict(runs.values_list("status").annotate(n=Count("id")).order_by())
            total = sum(counts.values())
            unfinished = sum(n for status, n in counts.items() if status not in TERMINAL)
            max_queued = max(max_queued, counts.get("queued", 0))
            mark = Watermark.objects.filter(flow=flow).first()
            polled_all = mark is not None and mark.position and not mark.cursor
            now = time.monotonic() - t0
            if now - last_print >= 10:
                print(f"  {now:5.0f} s  runs {total:5d}  {dict(sorted(counts.items()))}", flush=True)
                last_print = now
            gathering = BatchGroup.objects.filter(flow_version__flow=flow, status="open").exists()
            sending = Delivery.objects.filter(run__flow_version__flow=flow).exclude(state__in=TERMINAL_STATES).exists()
            if polled_all and total and not unfinished and not gathering and not sending:
                finished_at = now
                break
            time.sleep(0.5)
    finally:
        stop([supervisor], timeout=90)
    counts = dict(runs.values_list("status").annotate(n=Count("id")).order_by())
    total = sum(counts.values())
    delivered = Delivery.objects.filter(run__flow_version__flow=flow, state="SUCCEEDED").count()
    print(f"runs {total} {dict(sorted(counts.items()))}; deliveries succeeded {delivered}; max queued {max_queued}")
    if finished_at is None:
        print(f"NOT finished within {args.timeout:.0f} s")
        return 1
    rate = total / finished_at
    print(f"first demo poll fully processed in {finished_at:.1f} s ({rate:.1f} runs/s); target {args.target:.0f} s")
    return 0 if finished_at <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
