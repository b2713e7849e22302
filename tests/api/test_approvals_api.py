"""Approvals over the API: my inbox, decide (reject needs a comment), decided once."""

import pytest

from integrations.events.services import ingest_event
from integrations.runs.services import execute_run
from tests.api.runtime_fixtures import *  # noqa: F403
from tests.api.runtime_fixtures import problem_fields
from tests.runtime.conftest import publish_flow
from tests.runtime.test_approvals import deal_flow

pytestmark = pytest.mark.django_db
URL = "/api/v1/approvals/"


@pytest.fixture
def task_id(personas, crm, erp_offline, doorbells):
    publish_flow(personas["analyst"], deal_flow(), key="deals")
    result = ingest_event(source="crm", type="deal.won", external_id="d1", payload={"name": "acme", "value": 9000})
    execute_run(result.runs[0].pk)
    return result.runs[0].approvals.get().pk


def test_my_inbox_and_deciding(token_client, task_id):
    api = token_client("approver")
    assert [t["id"] for t in api.get(URL).json()["results"]] == [task_id]
    assert token_client("operator").get(URL).json()["results"] == []
    response = api.post(f"{URL}{task_id}/decide/", {"outcome": "rejected"}, content_type="application/json")
    assert response.status_code == 400 and "comment" in problem_fields(response)
    response = api.post(
        f"{URL}{task_id}/decide/", {"outcome": "approved", "comment": "ok"}, content_type="application/json"
    )
    assert (
        response.status_code == 200
        and response.json()["status"] == "approved"
        and response.json()["decided_by"] == "approver"
    )
    again = token_client("admin").post(
        f"{URL}{task_id}/decide/", {"outcome": "rejected", "comment": "no"}, content_type="application/json"
    )
    assert again.status_code == 409
    assert api.get(URL, {"scope": "all", "status": "approved"}).json()["results"][0]["id"] == task_id


def test_only_deciders_may_decide(token_client, task_id):
    for role in ("viewer", "analyst", "operator"):
        response = token_client(role).post(
            f"{URL}{task_id}/decide/", {"outcome": "approved"}, content_type="application/json"
        )
        assert response.status_code == 403
