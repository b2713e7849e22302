"""Poll triggers against a tiny local REST source: page by page since the watermark, one
event per changed record, the watermark advanced only with the events it covers."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.connections.models import Connection
from integrations.events.models import Event
from integrations.flows.models import Watermark
from integrations.runs.models import Run
from integrations.triggers.polls import poll
from tests.runtime.conftest import publish_flow

pytestmark = pytest.mark.django_db


class Source:
    """GET /deals?updated_since=&cursor= → {"data": [...], "next": cursor|null}, two per page."""

    def __init__(self):
        self.deals = [{"id": f"D{i}", "name": f"deal {i}", "updated_at": f"2026-01-0{i}T00:00:00Z"} for i in (1, 2, 3)]
        self.requests = []
        source = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                source.requests.append(query)
                since = query.get("updated_since", "")
                rows = [d for d in source.deals if d["updated_at"] > since]
                start = int(query.get("cursor", 0))
                page = rows[start : start + 2]
                body = json.dumps({"data": page, "next": str(start + 2) if start + 2 < len(rows) else None}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def source(settings):
    src = Source()
    settings.SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = [src.url]
    yield src
    src.server.shutdown()


@pytest.fixture
def polled(personas, source, doorbells):
    config = {
        "auth_type": "none",
        "objects": {
            "deals": {
                "path": "/deals",
                "records_path": "$.data",
                "cursor_path": "$.next",
                "cursor_param": "cursor",
                "since_param": "updated_since",
                "watermark_field": "updated_at",
            }
        },
    }
    Connection.objects.create(name="crm-api", kind="generic_rest", base_url=source.url, config=config)
    definition = {
        "trigger": {"type": "poll", "connection": "crm-api", "object": "deals", "cron": "*/5 * * * *"},
        "steps": [{"id": "shape", "type": "map", "fields": [{"to": "name", "from": "$.name", "required": True}]}],
    }
    return publish_flow(personas["analyst"], definition, key="deal-sync")


def test_a_poll_pages_through_changes_and_moves_the_watermark(polled, source):
    assert poll(polled.pk) == 3
    assert Event.objects.count() == 3 and Run.objects.filter(trigger="poll").count() == 3
    assert set(Event.objects.values_list("source", flat=True)) == {"poll:deal-sync"}
    mark = Watermark.objects.get()
    assert (mark.position, mark.cursor) == ("2026-01-03T00:00:00Z", "")
    assert [r.get("cursor") for r in source.requests] == [None, "2"]


def test_the_next_poll_asks_only_since_the_watermark_and_stores_changes_once(polled, source):
    poll(polled.pk)
    assert poll(polled.pk) == 0
    assert source.requests[-1]["updated_since"] == "2026-01-03T00:00:00Z"
    source.deals.append({"id": "D1", "name": "deal 1 renamed", "updated_at": "2026-01-04T00:00:00Z"})
    assert poll(polled.pk) == 1
    assert Event.objects.count() == 4
    assert Watermark.objects.get().position == "2026-01-04T00:00:00Z"


def test_a_paused_flow_is_not_polled(polled, source, personas):
    from integrations.flows.services import set_status

    set_status(polled, personas["analyst"], "paused")
    assert poll(polled.pk) == 0 and source.requests == []


def test_a_batch_flow_polls_one_event_per_page_and_one_batch_run_each(personas, source, doorbells):
    from integrations.runs.services import execute_run

    Connection.objects.create(
        name="crm-api",
        kind="generic_rest",
        base_url=source.url,
        config={"auth_type": "none", "objects": {"deals": {"path": "/deals", "records_path": "$.data",
                "cursor_path": "$.next", "cursor_param": "cursor", "since_param": "updated_since",
                "watermark_field": "updated_at"}}},
    )  # fmt: skip
    definition = {
        "trigger": {"type": "poll", "connection": "crm-api", "object": "deals", "cron": "*/5 * * * *"},
        "for_each": {"path": "$.records", "chunk_size": 1},
        "steps": [{"id": "shape", "type": "map", "fields": [{"to": "name", "from": "$.name", "required": True}]}],
    }
    flow = publish_flow(personas["analyst"], definition, key="deal-pages")
    assert poll(flow.pk) == 2  # pages of two and one
    pages = [len(e.payload["records"]) for e in Event.objects.order_by("id")]
    assert pages == [2, 1]
    runs = [execute_run(r.pk) for r in Run.objects.order_by("id")]
    assert [(r.status, r.output["records"], r.output["chunks"]) for r in runs] == [
        ("waiting-chunks", 2, 2),
        ("waiting-chunks", 1, 1),
    ]
    Watermark.objects.update(position="", cursor="")
    assert poll(flow.pk) == 0  # the same pages again: nothing new
