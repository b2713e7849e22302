"""The API answers what its OpenAPI document (/api/v1/schema/) says: each response below is
validated against the schema by schemathesis' own validator, in the cases that broke the
contract — users that are gone or not set (null), inbound-only connections (no base URL)
and lists that are not paginated.

.ci/schemathesis runs the same validator over generated requests to every operation."""

import json

import pytest
import requests
import schemathesis
from schemathesis.core.transport import Response

from integrations.connections.models import Connection, MaintenanceWindow
from integrations.events.models import Event
from integrations.events.services import ingest_event
from integrations.flows.models import Flow
from tests.api.runtime_fixtures import *  # noqa: F403
from tests.api.test_approvals_api import task_id  # noqa: F401
from tests.api.test_exceptions_api import failed_mappings

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client_for):
    return client_for("admin")


@pytest.fixture
def conforms(admin):
    """conforms(response, "GET", "/api/v1/flows/{key}/") validates against the schema (raises)."""
    document = admin.get("/api/v1/schema/", {"format": "json"}).json()
    schema = schemathesis.openapi.from_dict(document)

    def check(django_response, method: str, template: str) -> dict | list:
        response = Response(
            status_code=django_response.status_code,
            headers={name.lower(): [value] for name, value in django_response.headers.items()},
            content=django_response.content,
            request=requests.Request(method, "http://testserver" + template).prepare(),
            elapsed=0.0,
            verify=True,
        )
        schema[template][method].validate_response(response)
        return json.loads(django_response.content)

    return check


def test_a_flow_without_owner_and_its_draft_without_publisher(admin, conforms, invoice_flow):
    Flow.objects.update(owner=None)
    assert conforms(admin.get("/api/v1/flows/"), "GET", "/api/v1/flows/")["results"][0]["owner"] is None
    assert conforms(admin.get("/api/v1/flows/invoices/"), "GET", "/api/v1/flows/{key}/")["owner"] is None
    draft = conforms(admin.get("/api/v1/flows/invoices/draft/"), "GET", "/api/v1/flows/{key}/draft/")
    assert draft["published_by"] is None
    paused = admin.post("/api/v1/flows/invoices/status/", {"status": "paused"}, content_type="application/json")
    conforms(paused, "POST", "/api/v1/flows/{key}/status/")


def test_versions_are_a_plain_list_as_declared(admin, conforms, invoice_flow):
    versions = conforms(admin.get("/api/v1/flows/invoices/versions/"), "GET", "/api/v1/flows/{key}/versions/")
    assert [v["number"] for v in versions] == [1]


def test_replay_answers_the_list_of_runs_and_its_dry_run_a_preview(admin, conforms, invoice_flow):
    payload = {"id": "I-1", "amount": 1}
    event_id = ingest_event(source="crm", type="invoice.approved", external_id="e1", payload=payload).event.pk
    dry_run = {"ids": [event_id], "dry_run": True}
    preview = admin.post("/api/v1/events/replay/", dry_run, content_type="application/json")
    assert preview.status_code == 200
    [row] = conforms(preview, "POST", "/api/v1/events/replay/")
    assert row["event"] == event_id and row["deliveries"][0]["would_post"] is True
    started = admin.post("/api/v1/events/replay/", {"ids": [event_id]}, content_type="application/json")
    assert started.status_code == 202 and len(conforms(started, "POST", "/api/v1/events/replay/")) == 1


def test_replay_and_bulk_refuse_ids_past_a_database_integer(admin, invoice_flow):
    huge = 2**70  # a generated id once reached the database and answered 500
    response = admin.post("/api/v1/events/replay/", {"ids": [huge]}, content_type="application/json")
    assert response.status_code == 400 and "ids.0" in response.json()["errors"]
    bulk = {"action": "skip", "filter": {"ids": [huge]}}
    response = admin.post("/api/v1/exceptions/bulk/", bulk, content_type="application/json")
    assert response.status_code == 400 and "filter.ids.0" in response.json()["errors"]


def test_connector_kinds_and_an_inbound_only_connection(admin, conforms, crm):
    kinds = conforms(admin.get("/api/v1/connectors/"), "GET", "/api/v1/connectors/")
    assert "generic_webhook" in {k["kind"] for k in kinds}
    Connection.objects.filter(name="crm").update(base_url="")  # a webhook source calls us; we never call it
    listing = conforms(admin.get("/api/v1/connections/"), "GET", "/api/v1/connections/")
    assert listing[0]["base_url"] == ""
    conforms(admin.get("/api/v1/connections/crm/"), "GET", "/api/v1/connections/{name}/")


def test_maintenance_windows_are_a_list_as_declared(admin, conforms, crm):
    window = {"kind": "weekly", "weekday": 6, "start_time": "22:00", "end_time": "02:00", "timezone": "UTC"}
    added = admin.post("/api/v1/connections/crm/windows/", window, content_type="application/json")
    assert added.status_code == 201, added.content
    conforms(added, "POST", "/api/v1/connections/{name}/windows/")
    listing = conforms(admin.get("/api/v1/connections/crm/windows/"), "GET", "/api/v1/connections/{name}/windows/")
    assert [w["id"] for w in listing] == [MaintenanceWindow.objects.get().pk]


def test_an_unassigned_undecided_approval(admin, conforms, task_id):  # noqa: F811
    listing = conforms(admin.get("/api/v1/approvals/", {"scope": "all"}), "GET", "/api/v1/approvals/")
    task = listing["results"][0]
    assert task["id"] == task_id and task["assignee"] is None and task["decided_by"] is None
    conforms(admin.get(f"/api/v1/approvals/{task_id}/"), "GET", "/api/v1/approvals/{id}/")


def test_unassigned_exceptions_and_events_without_connection(admin, conforms, invoice_flow):
    failed_mappings(1)
    exceptions = conforms(admin.get("/api/v1/exceptions/"), "GET", "/api/v1/exceptions/")
    assert exceptions["results"][0]["assignee"] is None
    exc_id = exceptions["results"][0]["id"]
    conforms(admin.get(f"/api/v1/exceptions/{exc_id}/"), "GET", "/api/v1/exceptions/{id}/")
    Event.objects.update(connection=None)
    events = conforms(admin.get("/api/v1/events/"), "GET", "/api/v1/events/")
    assert events["results"][0]["connection"] is None


def test_runs_list_and_detail(admin, conforms, invoice_flow):
    failed_mappings(1)  # a failed run: error, finished_at and its steps set
    ingest_event(source="crm", type="invoice.approved", external_id="ok", payload={"id": "I-1", "amount": 1})
    runs = conforms(admin.get("/api/v1/runs/"), "GET", "/api/v1/runs/")["results"]
    assert len(runs) == 2
    for run in runs:
        conforms(admin.get(f"/api/v1/runs/{run['id']}/"), "GET", "/api/v1/runs/{id}/")


def test_the_document_states_the_body_limits(admin, settings):
    description = admin.get("/api/v1/schema/", {"format": "json"}).json()["info"]["description"]
    assert f"at most {settings.SWITCHBOARD_JSON_MAX_DEPTH} levels" in description and "413" in description
