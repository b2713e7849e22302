"""Four-eyes publishing through the API: the same rule as the studio's publish page."""

import pytest

from integrations.audit.models import AuditEntry
from integrations.connections.models import Connection
from integrations.flows import services
from tests.api.runtime_fixtures import token_client  # noqa: F401

pytestmark = pytest.mark.django_db
URL = "/api/v1/flows/books/"

DEFINITION = {
    "trigger": {"type": "manual"},
    "steps": [
        {"id": "post", "type": "deliver", "connection": "netsuite", "object": "job", "action": "create", "key": "k"}
    ],
}


@pytest.fixture
def books(personas):
    Connection.objects.create(name="netsuite", kind="netsuite", base_url="https://ns.example.com")
    return services.create_flow(personas["analyst"], key="books", name="Books", definition=DEFINITION)


def test_an_erp_flow_needs_a_note_and_a_second_person(token_client, books):  # noqa: F811
    analyst, admin = token_client("analyst"), token_client("admin")
    refused = analyst.post(URL + "publish/", {}, content_type="application/json")
    assert refused.status_code == 400 and "notes" in refused.json()["errors"]
    asked = analyst.post(URL + "publish/", {"notes": "first"}, content_type="application/json")
    assert asked.status_code == 202 and asked.json()["state"] == "pending"
    assert books.live_version is None
    rid = asked.json()["id"]
    own = analyst.post(f"{URL}publish-requests/{rid}/approve/", {}, content_type="application/json")
    assert own.status_code == 400 and "approver" in own.json()["errors"]
    assert token_client("approver").post(f"{URL}publish-requests/{rid}/approve/").status_code == 403
    assert admin.post(f"{URL}publish-requests/{rid}/withdraw/").status_code == 400  # not theirs
    done = admin.post(f"{URL}publish-requests/{rid}/approve/", {"comment": "ok"}, content_type="application/json")
    assert done.status_code == 200 and (done.json()["state"], done.json()["version"]) == ("approved", 1)
    assert books.live_version.published_by.username == "admin"
    assert list(
        AuditEntry.objects.filter(action__startswith="flow.publish").order_by("id").values_list("action", flat=True)
    ) == [
        "flow.publish.request",
        "flow.publish",
        "flow.publish.approve",
    ]
    listed = analyst.get(URL + "publish-requests/").json()
    assert [r["state"] for r in listed] == ["approved"]
