"""The flow list and the editor read in a fixed number of queries, whatever the number of flows,
runs and mapping rows (no query per row)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.flows import services
from integrations.flows.models import Flow
from integrations.runs.models import Run, RunException

pytestmark = pytest.mark.django_db

BIG_MAP = {
    "trigger": {"type": "manual"},
    "steps": [
        {
            "id": "wide",
            "type": "map",
            "fields": [{"to": f"field_{i}", "from": f"$.source_{i}"} for i in range(200)],
        },
        {"id": "check", "type": "validate", "rules": [{"when": "record.field_1 == 'x'", "message": "no x"}]},
    ],
}


def make_flows(user, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        flow = services.create_flow(user, key=f"f{i:03}", name=f"Flow {i}", tags=["t"], definition=BIG_MAP)
        version = services.publish(flow, user, notes="v1")
        run = Run.objects.create(flow_version=version, trigger="manual", status="failed")
        RunException.objects.create(
            run=run, flow=flow, classification="permanent", message="boom", message_signature="boom"
        )


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_flow_list_queries_do_not_grow_with_flows(client_for, personas):
    viewer = client_for("viewer")
    make_flows(personas["analyst"], 3)
    few = count(viewer, "/flows/")
    make_flows(personas["analyst"], 12, start=3)
    many = count(viewer, "/flows/")
    assert many == few, (few, many)
    assert many <= 12  # session, user, permissions, flows, count, versions, runs, exceptions, backlog
    body = viewer.get("/flows/").content.decode()
    assert body.count('data-testid="flow-open-errors-') == 15 and "v1" in body


def test_editor_of_a_200_field_mapping_queries_a_fixed_number(client_for, personas):
    make_flows(personas["analyst"], 1)
    flow = Flow.objects.get()
    viewer = client_for("viewer")
    for url in (f"/flows/{flow.key}/", f"/flows/{flow.key}/versions/", f"/flows/{flow.key}/runs/"):
        assert count(viewer, url) <= 14, url
