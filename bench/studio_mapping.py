"""Server time of the mapping editor with a 200-field mapping (issue 11): the map step's panel
(as htmx loads it into the editor, and as a whole page), one row opened for editing, one row's
live template preview (what each pause in typing costs) and one row's save, each asked for by a
signed-in Analyst through Django's test client (middleware, view, queries, template: everything
but the network).

    .venv/bin/python bench/studio_mapping.py [--requests 20] [--rounds 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_<name> .venv/bin/python bench/studio_mapping.py

A throwaway test database is made (and dropped) for the run: test_<database name>, the one
pytest uses, so do not run it beside your tests. The 200 rows: 100 plain paths,
50 templates, 25 value-map lookups, 25 constants, over a 200-field sample record. Each request
is warmed up, then asked --requests times per round, the requests taken in turn so that a change
of load hits the baseline too; the median of each round is taken and the median of the rounds
printed with the ratio to a baseline measured alongside (the home page), the CPU time of this
process (steadier than the wall time on a loaded machine; it leaves out the database's own
work) and the query count. Exits 1 when the panel or the preview misses the 150 ms median.
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
WARM_UP = 3


def definition() -> dict:
    fields = []
    for i in range(200):
        to = f"field_{i:03}"
        if i < 100:
            fields.append({"to": to, "from": f"$.source_{i:03}"})
        elif i < 150:
            fields.append({"to": to, "from": f"$.source_{i:03}", "template": "{{ value | trim | upper }}"})
        elif i < 175:
            fields.append({"to": to, "from": "$.region", "value_map": "regions", "default": "NA"})
        else:
            fields.append({"to": to, "constant": f"c{i}"})
    return {
        "trigger": {"type": "event", "connection": "bench-source", "event": "record.changed"},
        "value_maps": {"regions": {"Europe": "EMEA", "North America": "NA"}},
        "steps": [{"id": "wide", "type": "map", "fields": fields}],
    }


def setup():
    from django.contrib.auth.models import Group, User

    from integrations.events.models import Event
    from integrations.flows import services

    user = User.objects.create_user("bench-analyst", password="x")
    user.groups.add(Group.objects.get(name="Analyst"))
    flow = services.create_flow(user, key="bench-wide", name="200-field mapping")
    services.save_draft(flow, user, definition())
    sample = {f"source_{i:03}": f" value {i} " for i in range(200)} | {"region": "Europe"}
    Event.objects.create(source="bench-source", type="record.changed", external_id="1", payload=sample)
    return user


def call(client, case):
    _name, method, url, data, htmx = case
    return getattr(client, method)(url, data, **({"HTTP_HX_REQUEST": "true"} if htmx else {}))


def measure(client, cases: list, requests: int) -> dict[str, tuple[float, float]]:
    """One round: each request asked for `requests` times, the requests taken in turn (home,
    panel, preview, save, home, …) so a change in the machine's load falls on the baseline as
    much as on the rest. {name: (median wall ms, median CPU ms of this process)}."""
    for case in cases:
        for _ in range(WARM_UP):
            answer = call(client, case)
            assert answer.status_code == 200, (case[2], answer.status_code)
    wall: dict[str, list[float]] = {case[0]: [] for case in cases}
    cpu: dict[str, list[float]] = {case[0]: [] for case in cases}
    for _ in range(requests):
        for case in cases:
            started, used = time.perf_counter(), time.process_time()
            call(client, case)
            wall[case[0]].append((time.perf_counter() - started) * 1000)
            cpu[case[0]].append((time.process_time() - used) * 1000)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name])) for name in wall}


def queries_of(client, case) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call(client, case)
    return len(queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        user = setup()
        client = Client()
        client.force_login(user)
        panel = "/flows/bench-wide/steps/0/"
        row = {"to": "field_120", "kind": "template", "from": "$.source_120", "template": "{{ value | trim | lower }}"}
        cases = [
            ("baseline: home page", "get", "/", {}, False),
            ("mapping panel (htmx fragment)", "get", panel, {}, True),
            ("mapping panel (whole page)", "get", panel, {}, False),
            ("row opened for editing", "get", panel + "map/row/", {"to": "field_120", "edit": "1"}, True),
            ("row template preview", "post", panel + "map/row/preview/", row, True),
            ("row save", "post", panel + "map/row/save/", row, True),
        ]
        results: dict[str, list[tuple[float, float]]] = {case[0]: [] for case in cases}
        for _ in range(args.rounds):
            for name, medians in measure(client, cases, args.requests).items():
                results[name].append(medians)
        base = statistics.median(wall for wall, _cpu in results[cases[0][0]])
        failed = False
        print(f"{connection.vendor}, {args.rounds} rounds x {args.requests} requests, median of round medians")
        print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end")
        for case in cases:
            name = case[0]
            ms = statistics.median(wall for wall, _cpu in results[name])
            cpu = statistics.median(c for _wall, c in results[name])
            print(
                f"  {name:34} {ms:7.1f} ms  {ms / base:5.2f}x baseline  cpu {cpu:6.1f} ms"
                f"  {queries_of(client, case):3} queries"
            )
            if name.startswith(("mapping panel (htmx", "row template")) and ms >= TARGET_MS:
                failed = True
        return 1 if failed else 0
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
