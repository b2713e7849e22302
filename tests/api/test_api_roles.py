"""The API's role checks say what they refuse: every 403 from a capability check is a
problem document naming the capability, the roles that have it and the caller's roles; and
listing every approval (`?scope=all`) is for deciders, as the API says."""

import pytest
from django.test import Client

from tests.api.runtime_fixtures import *  # noqa: F403
from tests.api.runtime_fixtures import PROBLEM
from tests.api.test_approvals_api import task_id  # noqa: F401
from tests.api.test_invoke_api import RATE_CHECK
from tests.api.wsgi_client import WsgiClient
from tests.runtime.conftest import publish_flow

pytestmark = pytest.mark.django_db
EVENT = {"connection": "crm", "type": "invoice.approved", "external_id": "e-1", "payload": {"id": "I-1"}}


def assert_names_capability(response, capability: str, roles: str) -> str:
    assert response.status_code == 403, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    detail = response.json()["detail"]
    assert f"'{capability}'" in detail and f"your roles: {roles}" in detail
    return detail


def test_an_analyst_posting_an_event_hears_which_capability_and_roles_it_takes(token_client, invoice_flow):
    response = token_client("analyst").post("/api/v1/events/", EVENT, content_type="application/json")
    detail = assert_names_capability(response, "replay_events", "Analyst")
    assert "Operator, Admin" in detail
    assert token_client("operator").post("/api/v1/events/", EVENT, content_type="application/json").status_code == 202


@pytest.mark.parametrize(
    ("role", "method", "url", "capability", "roles"),
    [
        ("viewer", "post", "/api/v1/flows/", "edit_flows", "Viewer"),
        ("viewer", "post", "/api/v1/flows/invoices/status/", "publish_flows", "Viewer"),
        ("analyst", "post", "/api/v1/flows/invoices/run/", "replay_events", "Analyst"),
        ("viewer", "post", "/api/v1/connections/", "manage_connections", "Viewer"),
        ("operator", "post", "/api/v1/connections/crm/test/", "manage_connections", "Operator"),
        ("analyst", "post", "/api/v1/exceptions/bulk/", "work_exceptions", "Analyst"),
        ("operator", "post", "/api/v1/approvals/1/decide/", "decide_approvals", "Operator"),
        ("analyst", "post", "/api/v1/events/replay/", "replay_events", "Analyst"),
        ("outsider", "get", "/api/v1/flows/", "view_studio", "none"),
    ],
)
def test_every_capability_403_names_the_capability(token_client, invoice_flow, role, method, url, capability, roles):
    response = getattr(token_client(role), method)(url, {}, content_type="application/json")
    assert_names_capability(response, capability, roles)


def test_invoke_names_the_capability_through_the_view_and_the_gateway(token_client, personas, invoice_flow):
    publish_flow(personas["analyst"], RATE_CHECK, key="rates")
    record = {"role": "architect", "hourly_rate": 240}
    analyst = token_client("analyst")
    for _ in range(2):  # the second answer comes from the view's cached grant
        response = analyst.post("/api/v1/flows/rates/invoke", record, content_type="application/json")
        assert_names_capability(response, "replay_events", "Analyst")
    gateway = WsgiClient(HTTP_AUTHORIZATION=analyst.defaults["HTTP_AUTHORIZATION"])
    response = gateway.post("/api/v1/flows/rates/invoke", record)
    assert response.status_code == 403 and "'replay_events'" in response.json()["detail"]


def test_listing_every_approval_is_for_deciders(token_client, task_id):  # noqa: F811
    for role, roles in (("viewer", "Viewer"), ("analyst", "Analyst"), ("operator", "Operator")):
        everything = token_client(role).get("/api/v1/approvals/", {"scope": "all"})
        assert_names_capability(everything, "decide_approvals", roles)
        assert token_client(role).get("/api/v1/approvals/").json()["results"] == []  # 'mine': nothing to decide
    assert [
        t["id"] for t in token_client("approver").get("/api/v1/approvals/", {"scope": "all"}).json()["results"]
    ] == [task_id]


def test_an_unknown_scope_is_400_not_every_task(token_client, task_id):  # noqa: F811
    response = token_client("viewer").get("/api/v1/approvals/", {"scope": "everything"})
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    assert "scope" in response.json()["errors"]


def test_a_session_caller_gets_the_same_403(client_for, invoice_flow):
    client: Client = client_for("viewer")
    response = client.post("/api/v1/connections/", {}, content_type="application/json")
    assert_names_capability(response, "manage_connections", "Viewer")
