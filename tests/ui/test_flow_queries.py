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
    # session, user, two for permissions, the count, the page (its columns as subqueries), last runs, backlog
    assert many <= 8
    body = viewer.get("/flows/").content.decode()
    assert body.count('data-testid="flow-open-errors-') == 15 and "v1" in body


def test_flow_list_columns_come_from_the_page_query(client_for, personas):
    analyst = personas["analyst"]
    make_flows(analyst, 2)
    changed, untouched = Flow.objects.get(key="f000"), Flow.objects.get(key="f001")
    services.save_draft(changed, analyst, {**BIG_MAP, "steps": BIG_MAP["steps"][:1]})
    version = untouched.versions.get(state="published")
    Run.objects.create(flow_version=version, trigger="manual", status="succeeded")  # the newer run wins
    Run.objects.create(flow_version=version, trigger="manual", status="queued")  # and makes a backlog
    Run.objects.create(flow_version=version, trigger="manual", status="failed", is_test=True)  # not listed
    for status in ("assigned", "resolved"):
        run = Run.objects.create(
            flow_version=changed.versions.get(state="published"), trigger="manual", status="failed"
        )
        RunException.objects.create(
            run=run, flow=changed, classification="permanent", message="m", message_signature="m", status=status
        )
    html = client_for("viewer").get("/flows/").content.decode()
    assert 'data-testid="flow-draft-f000"' in html and 'data-testid="flow-draft-f001"' not in html
    changed_row = html[html.index('data-testid="flow-row-f000"') : html.index('data-testid="flow-row-f001"')]
    untouched_row = html[html.index('data-testid="flow-row-f001"') :]
    assert "Failed" in changed_row and ">2</a>" in changed_row  # two open exceptions (not the resolved one)
    assert "/exceptions/?flow=f000&amp;tab=open" in changed_row
    assert "Queued" in untouched_row and "1 queued, 0 in progress" in untouched_row
    assert 'data-testid="flow-open-errors-f001">1</a>' in untouched_row and "v1" in untouched_row


def test_editor_of_a_200_field_mapping_queries_a_fixed_number(client_for, personas):
    make_flows(personas["analyst"], 1)
    flow = Flow.objects.get()
    viewer = client_for("viewer")
    for url in (f"/flows/{flow.key}/", f"/flows/{flow.key}/versions/", f"/flows/{flow.key}/runs/"):
        assert count(viewer, url) <= 14, url
