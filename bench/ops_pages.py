"""Server time of the operations pages over a million runs (issue 12): the run history, a
business-key search, a filtered run history, a page deep in the history, one failed run's
page, the page of a run whose failed step carries a 5 MB input (made once, business key
BENCH-5MB), the exception queue (plain, grouped by signature, filtered by flow), the
approver's inbox, and the dashboard with each of its lazily loaded panels (24 hours and 30
days); then, without a target, that 5 MB step input loaded in full.

Needs PostgreSQL holding a generated history:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python manage.py load_volume --runs 1000000 --exceptions 100000
    DATABASE_URL=... .venv/bin/python bench/ops_pages.py [--requests 30]

Each page is asked for by a signed-in Viewer through Django's test client (middleware, view,
queries, template: everything but the network and the WSGI server), a few times to warm up
and then --requests times with different values (business keys, runs) so no answer comes
from a cache. Prints the median and p95 per page, and the median's ratio to a baseline
measured in the same run (the home page, before and after the pages: on a loaded machine the
ratio says more than the milliseconds), and exits 1 when a page misses the target: median
< 100 ms and p95 < 300 ms.

The dashboard's run panels read hourly roll-ups, which load_volume fills; on a database loaded
before they existed, run `manage.py migrate` and `manage.py roll_up_runs --rebuild` first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

MEDIAN_MS, P95_MS = 100.0, 300.0
WARM_UP = 3


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(clients: dict, urls: list[str]) -> list[float]:
    """Each url may name the signed-in person first ("approver:/approvals/"); else the Viewer."""
    for url in urls[:WARM_UP]:
        who, _, path = url.rpartition(":") if url.startswith("approver:") else ("", "", url)
        clients[who].get(path)
    took = []
    for url in urls:
        who, _, url = url.rpartition(":") if url.startswith("approver:") else ("", "", url)
        client = clients[who]
        started = time.perf_counter()
        response = client.get(url)
        took.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return took


def big_run() -> tuple[int, int]:
    """(run id, step id) of a failed run whose failing step's input is about 5 MB."""
    from django.utils import timezone

    from integrations.runs.models import Run, StepRun

    run = Run.objects.filter(business_key="BENCH-5MB").first()
    if run is None:
        template = Run.objects.filter(status="failed").only("flow_version_id", "error").first()
        run = Run.objects.create(
            flow_version_id=template.flow_version_id,
            trigger="event",
            status="failed",
            business_key="BENCH-5MB",
            error=template.error,
        )
        lines = [{"line": n, "note": "x" * 90} for n in range(50_000)]
        StepRun.objects.create(
            run=run,
            step_id=template.error["step_id"],
            type="deliver",
            status="failed",
            input={"lines": lines},
            error={"message": template.error["message"]},
            started_at=timezone.now(),
        )
    return run.pk, run.steps.get().pk


def pages(n: int, big: int) -> dict[str, list[str]]:
    from django.utils import timezone

    from integrations.runs.models import Run
    from studio.ui import keyset

    failed = list(Run.objects.filter(status="failed").order_by("-created_at").values_list("id", flat=True)[: n * 50])
    keys = list(Run.objects.exclude(business_key="").values_list("business_key", flat=True)[: n * 100 : 100])
    flows = ["vol-hours-to-erp", "vol-invoice-sync", "vol-project-activation", "vol-customer-sync"]
    since = (timezone.now() - timedelta(days=30)).date().isoformat()
    middle = Run.objects.order_by("-created_at", "-id").values_list("created_at", "id")[500_000:500_001]
    deep = [keyset.encode(*row) for row in middle] or [""]
    return {
        "run list": ["/runs/"] * n,
        "business-key search": [f"/runs/?business_key={key}" for key in keys],
        "filtered list (flow, failed, last 30 days)": [
            f"/runs/?flow={flows[i % len(flows)]}&status=failed&since={since}" for i in range(n)
        ],
        "filtered list (one version, retries only)": [
            f"/runs/?flow={flows[i % len(flows)]}&version=2&retries=on" for i in range(n)
        ],
        "page 10,000 of the history (keyset cursor)": [f"/runs/?cursor={deep[0]}"] * n,
        "failed run page": [f"/runs/{pk}/" for pk in failed[::50][:n]],
        "failed run page, 5 MB step input (64 KiB shown)": [f"/runs/{big}/"] * n,
        "exception queue (open)": ["/exceptions/"] * n,
        "exception queue grouped by signature": ["/exceptions/?group=signature"] * n,
        "exception queue, one flow, business key": [
            f"/exceptions/?flow={flows[i % len(flows)]}&business_key={keys[i % len(keys)]}" for i in range(n)
        ],
        "approvals inbox (pending), as the approver": ["approver:/approvals/"] * n,
        "approvals inbox (decided by me), as the approver": ["approver:/approvals/?tab=decided"] * n,
        "dashboard page (panels load lazily)": ["/dashboards/"] * n,
        **{
            f"dashboard panel {name}, {span}": [f"/dashboards/panels/{name}/?range={span}"] * n
            for name in ("top", "usage", "business", "throughput", "latency", "stages", "regions")
            for span in ("24h", "30d")
        },
    }


def full_payload(n: int, big: int, step: int) -> dict[str, list[str]]:
    """Not held to the page target: the whole 5 MB, pretty-printed, on request."""
    return {"5 MB step input loaded in full": [f"/runs/{big}/steps/{step}/input/"] * n}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="measured requests per page (at least 20)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client

    from integrations.runs.models import Run

    if connection.vendor != "postgresql":
        raise SystemExit("Point DATABASE_URL at PostgreSQL holding a generated history (manage.py load_volume).")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    runs = Run.objects.count()
    user, _ = User.objects.get_or_create(username="bench-viewer")
    user.groups.add(Group.objects.get(name="Viewer"))
    client = Client(secure=True)
    client.force_login(user)
    # The person load_volume names on the decided approval tasks, signed in as an Approver.
    approver = User.objects.get(username="vol-approver")
    User.objects.filter(pk=approver.pk).update(is_active=True)
    approver.groups.add(Group.objects.get(name="Approver"))
    as_approver = Client(secure=True)
    as_approver.force_login(approver)
    clients = {"": client, "approver": as_approver}

    print(f"{runs:,} runs in the database; {args.requests} requests per page after {WARM_UP} warm-up requests")
    missed = []
    big, step = big_run()
    n = max(args.requests, 20)
    home = [statistics.median(measure(clients, ["/"] * n))]
    print(f"{'baseline: home page':50} median {home[0]:7.1f} ms")
    for name, urls in pages(n, big).items():
        took = measure(clients, urls)
        median, high = statistics.median(took), p95(took)
        ok = median < MEDIAN_MS and high < P95_MS
        missed += [] if ok else [name]
        verdict = "ok" if ok else "MISSED"
        print(f"{name:50} median {median:7.1f} ms   p95 {high:7.1f} ms   {median / home[0]:5.1f}× home   {verdict}")
    home.append(statistics.median(measure(clients, ["/"] * n)))
    print(f"{'baseline: home page, again at the end':50} median {home[1]:7.1f} ms")
    for name, urls in full_payload(max(args.requests // 4, 5), big, step).items():
        took = measure(clients, urls)
        print(f"{name:50} median {statistics.median(took):7.1f} ms   p95 {p95(took):7.1f} ms   (no target)")
    if missed:
        print(f"Target (median < {MEDIAN_MS:.0f} ms, p95 < {P95_MS:.0f} ms) missed by: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
