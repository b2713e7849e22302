"""Server time of the analyst's studio pages with 500 flows and a 200-field mapping (issue 11):
the flow list (first page, a later page, a text search), the editor of the flow with the
200-field mapping (as opened, and with its map step selected), that map step's panel (the htmx
fragment the editor loads), another step's panel and its versions tab are each asked for by a
signed-in Analyst through Django's test client (middleware, view, queries, template: everything
but the network and the WSGI server).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python bench/studio_pages.py [--requests 30] [--rounds 3]

The first run creates the flows (keys bench-000 … bench-499, each published once, with a run
and an open exception, so every column of the list has data); later runs reuse them. Each page
is asked for a few times to warm up, then --requests times per round, the pages taken in turn
so that a change of load hits the baseline too; the median of each round is taken and the
median of the rounds printed, with the ratio to a baseline measured alongside (the home page,
the lightest signed-in page) and the CPU time of this process (steadier than the wall time on a
loaded machine; it leaves out the database's own work). Exits 1 when the list, the editor or
the map panel misses the target: median < 150 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

TARGET_MS = 150.0
FLOWS = 500
WARM_UP = 3
WIDE = "bench-wide"


def wide_definition() -> dict:
    fields = [{"to": f"field_{i:03}", "from": f"$.source_{i:03}"} for i in range(200)]
    fields[0]["required"] = True
    return {
        "trigger": {"type": "event", "connection": "bench-source", "event": "record.changed"},
        "steps": [
            {"id": "wide", "type": "map", "fields": fields},
            {"id": "check", "type": "validate", "rules": [{"when": "record.field_001 == 'x'", "message": "no x"}]},
        ],
    }


def small_definition(i: int) -> dict:
    return {
        "trigger": {"type": "manual"},
        "steps": [{"id": "shape", "type": "map", "fields": [{"to": "n", "constant": i}]}],
    }


def setup() -> None:
    from django.contrib.auth.models import Group, User

    from integrations.connections.models import Connection
    from integrations.events.models import Event
    from integrations.flows import services
    from integrations.flows.models import Flow
    from integrations.runs.models import Run, RunException

    Group.objects.get_or_create(name="Analyst")
    user, made = User.objects.get_or_create(username="bench-analyst")
    if made:
        user.groups.add(Group.objects.get(name="Analyst"))
    Connection.objects.get_or_create(name="bench-source", defaults={"kind": "generic_webhook"})
    have = set(Flow.objects.filter(key__startswith="bench-").values_list("key", flat=True))
    started = time.perf_counter()
    for i in range(FLOWS):
        key = WIDE if i == 0 else f"bench-{i:03}"
        if key in have:
            continue
        definition = wide_definition() if key == WIDE else small_definition(i)
        flow = services.create_flow(user, key=key, name=f"Bench flow {i:03}", tags=["bench"], definition=definition)
        version = services.publish(flow, user, notes="bench")
        run = Run.objects.create(flow_version=version, trigger="manual", status="failed")
        RunException.objects.create(run=run, flow=flow, classification="permanent", message="m", message_signature="m")
    if not Event.objects.filter(source="bench-source").exists():
        for n in range(100):
            Event.objects.create(
                source="bench-source",
                type="record.changed",
                external_id=f"bench-{n}",
                payload={f"source_{i:03}": f"value {n}-{i}" for i in range(200)},
            )
    total = Flow.objects.filter(key__startswith="bench-").count()
    print(f"setup: {total} flows ({time.perf_counter() - started:.0f} s)")


HX = {"HX-Request": "true"}


def get(client, url: str):
    """A url starting with "hx:" is asked for as htmx does (the fragment, not the page)."""
    return client.get(url[3:], headers=HX) if url.startswith("hx:") else client.get(url)


def measure(client, pages: dict[str, str], requests: int) -> dict[str, tuple[float, float]]:
    """One round: each page asked for `requests` times, the pages taken in turn (home, list,
    editor, …, home, list, …) so a change in the machine's load falls on the baseline as much
    as on the pages. {page: (median wall ms, median CPU ms of this process)}."""
    for url in pages.values():
        for _ in range(WARM_UP):
            get(client, url)
    wall: dict[str, list[float]] = {name: [] for name in pages}
    cpu: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(requests):
        for name, url in pages.items():
            started, used = time.perf_counter(), time.process_time()
            response = get(client, url)
            wall[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((time.process_time() - used) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name])) for name in pages}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host
    setup()
    client = Client()
    client.force_login(User.objects.get(username="bench-analyst"))
    pages = {
        "baseline: home": "/",
        "flow list": "/flows/",
        "flow list, page 4": "/flows/?page=4",
        "flow list, search": "/flows/?q=flow+04",
        "editor (200-field map)": f"/flows/{WIDE}/",
        "editor, map step selected": f"/flows/{WIDE}/?step=0",
        "map step panel (htmx)": f"hx:/flows/{WIDE}/steps/0/",
        "validate step panel (htmx)": f"hx:/flows/{WIDE}/steps/1/",
        "versions tab": f"/flows/{WIDE}/versions/",
    }
    rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in pages}
    for _ in range(args.rounds):
        for name, medians in measure(client, pages, args.requests).items():
            rounds[name].append(medians)
    baseline = statistics.median(wall for wall, _cpu in rounds["baseline: home"])
    failed = False
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end")
    print(f"{'page':28} {'median ms':>10} {'x home':>8} {'cpu ms':>8} {'queries':>8}   rounds")
    for name, url in pages.items():
        median = statistics.median(wall for wall, _cpu in rounds[name])
        cpu = statistics.median(c for _wall, c in rounds[name])
        with CaptureQueriesContext(connection) as queries:
            get(client, url)
        gated = name.startswith(("flow list", "editor", "map step"))
        miss = gated and median >= TARGET_MS
        failed |= miss
        each = ", ".join(f"{wall:.1f}" for wall, _cpu in rounds[name])
        flag = "  MISSED" if miss else ""
        print(f"{name:28} {median:10.1f} {median / baseline:8.2f} {cpu:8.1f} {len(queries):8}   [{each}]{flag}")
    runs = f"{args.rounds} rounds x {args.requests} requests"
    print(f"target: list, editor and map panel median < {TARGET_MS:.0f} ms ({runs})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
