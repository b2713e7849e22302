"""Flows over the API: create, draft with errors naming step and field, validate, publish,
versions, test-run, manual run; role checks."""

import copy

import pytest

from integrations.runs.models import Run
from tests.api.runtime_fixtures import *  # noqa: F403
from tests.api.runtime_fixtures import problem_fields
from tests.runtime.conftest import INVOICE_FLOW

pytestmark = pytest.mark.django_db
URL = "/api/v1/flows/"


@pytest.fixture
def created(token_client, crm, doorbells):
    api = token_client("analyst")
    response = api.post(
        URL, {"key": "invoices", "name": "Invoices", "definition": INVOICE_FLOW}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return api


def test_create_publish_and_list_versions(created, token_client):
    api = created
    assert api.post(URL + "invoices/publish/", {"notes": "go live"}, content_type="application/json").status_code == 201
    flow = api.get(URL + "invoices/").json()
    assert (flow["status"], flow["live_version"]) == ("active", 1)
    versions = api.get(URL + "invoices/versions/").json()
    assert [(v["number"], v["notes"], v["published_by"]) for v in versions] == [(1, "go live", "analyst")]
    assert token_client("viewer").get(URL).json()["results"][0]["key"] == "invoices"


def test_a_duplicate_key_and_a_bad_definition_are_400(created):
    response = created.post(URL, {"key": "invoices", "name": "Again"}, content_type="application/json")
    assert response.status_code == 400 and "key" in problem_fields(response)
    bad = copy.deepcopy(INVOICE_FLOW)
    bad["steps"][0]["fields"][0]["from"] = "no-dollar"
    response = created.put(URL + "invoices/draft/", {"definition": bad}, content_type="application/json")
    assert response.status_code == 400
    fields = problem_fields(response)
    assert any(name.startswith("definition.steps[0]") and "shape" in " ".join(msgs) for name, msgs in fields.items()), (
        fields
    )


def test_validate_reports_errors_without_saving(created):
    bad = copy.deepcopy(INVOICE_FLOW)
    del bad["steps"][1]["connection"]
    body = created.post(URL + "invoices/validate/", {"definition": bad}, content_type="application/json").json()
    assert body["valid"] is False and body["errors"][0]["step_id"] == "post"
    assert created.post(URL + "invoices/validate/", {}, content_type="application/json").json() == {
        "valid": True,
        "errors": [],
    }


def test_a_draft_with_errors_may_be_kept_when_asked(created):
    bad = copy.deepcopy(INVOICE_FLOW)
    del bad["steps"][1]["connection"]
    response = created.put(
        URL + "invoices/draft/", {"definition": bad, "allow_errors": True}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["errors"][0]["step_id"] == "post"
    response = created.post(URL + "invoices/publish/", {}, content_type="application/json")
    assert response.status_code == 400  # but it cannot be published


def test_test_run_simulates_and_writes_nothing(created):
    response = created.post(
        URL + "invoices/test-run/", {"record": {"id": "I-1", "amount": 4}}, content_type="application/json"
    )
    body = response.json()
    assert response.status_code == 200 and body["status"] == "completed" and body["version"] == "draft"
    assert body["steps"][1]["output"]["simulated"] is True
    assert Run.objects.count() == 0


def test_manual_run_needs_a_published_version_and_the_right_role(created, token_client):
    record = {"record": {"id": "I-2", "amount": 1}}
    response = token_client("operator").post(URL + "invoices/run/", record, content_type="application/json")
    assert response.status_code == 400 and "flow" in problem_fields(response)
    created.post(URL + "invoices/publish/", {}, content_type="application/json")
    response = token_client("operator").post(URL + "invoices/run/", record, content_type="application/json")
    assert response.status_code == 202 and response.json()["trigger"] == "manual"
    assert Run.objects.get().input == {"id": "I-2", "amount": 1}


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("viewer", "publish/", 403),
        ("operator", "publish/", 403),
        ("approver", "draft/", 403),
        ("viewer", "test-run/", 403),
    ],
)
def test_roles_without_the_capability_are_refused(created, token_client, role, path, status):
    method = "put" if path == "draft/" else "post"
    response = getattr(token_client(role), method)(URL + "invoices/" + path, {}, content_type="application/json")
    assert response.status_code == status
