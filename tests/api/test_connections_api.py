"""Connections over the API: readable by every role, secrets never returned, Test needs
manage_connections; connector kinds describe their fields and objects."""

import json

import pytest

from integrations.connections.services import create_connection

SECRET = "api-Canary-99812-secret"


@pytest.fixture
def conn(db):
    return create_connection(
        "system:test",
        name="crm",
        kind="generic_rest",
        base_url="https://10.9.9.9",
        config={"auth_type": "header", "objects": {"clients": {"path": "/clients"}}},
        credentials={"api_key": SECRET},
    )


def test_list_and_detail_never_return_secrets(client_for, conn):
    viewer = client_for("viewer")
    listing = viewer.get("/api/v1/connections/")
    assert listing.status_code == 200
    assert [c["name"] for c in listing.json()] == ["crm"]
    detail = viewer.get("/api/v1/connections/crm/").json()
    assert detail["secrets_set"] == ["api_key"] and detail["status"] == "unverified"
    assert [o["name"] for o in detail["objects"]] == ["clients"]  # generic: declared on the connection
    assert SECRET not in listing.content.decode() + json.dumps(detail)


def test_test_action_needs_manage_connections_and_reports_the_reason(client_for, conn):
    assert client_for("viewer").post("/api/v1/connections/crm/test/").status_code == 403
    response = client_for("analyst").post("/api/v1/connections/crm/test/")
    body = response.json()
    assert response.status_code == 200 and body["ok"] is False and body["status"] == "offline"
    assert "private or local address" in body["message"]


def test_connector_kinds_describe_fields_and_objects(client_for, db):
    kinds = {k["kind"]: k for k in client_for("analyst").get("/api/v1/connectors/").json()}
    generic = kinds["generic_rest"]
    assert {f["name"] for f in generic["auth_fields"]} == {"api_key", "password", "client_secret"}
    assert kinds["generic_webhook"]["inbound_only"] is True
    with_objects = [k for k in kinds.values() if k["objects"]]
    for kind in with_objects:
        for obj in kind["objects"]:
            assert obj["actions"] and all("name" in f for f in obj["fields"])


def test_outsider_and_anonymous_are_refused(client_for, client, conn):
    assert client_for("outsider").get("/api/v1/connections/").status_code == 403
    assert client.get("/api/v1/connections/").status_code in (401, 403)
