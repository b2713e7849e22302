"""The API of flow testing: samples CRUD with field errors, the regression check, export and
import (dry run by default, then applied), role checks."""

import copy

import pytest

from integrations.flows.models import Flow
from integrations.flows.services import create_flow, save_draft
from tests.runtime.conftest import INVOICE_FLOW

pytestmark = pytest.mark.django_db
API = "/api/v1/flows/invoices/"
EXPECTED = {
    "status": "completed",
    "record": {"external_ref": "INV-1", "amount": 120, "currency": "EUR"},
    "deliveries": [{"connection": "erp", "object": "postings", "action": "create", "key": "invoice:INV-1"}],
}


@pytest.fixture
def flow(personas):
    from integrations.connections.models import Connection

    Connection.objects.create(name="crm", kind="generic_webhook", base_url="https://crm.example.com")
    Connection.objects.create(name="erp", kind="generic_rest", base_url="https://erp.example.com")
    return create_flow(personas["analyst"], key="invoices", name="Invoices", definition=INVOICE_FLOW)


def test_samples_are_pinned_listed_changed_and_deleted(flow, client_for):
    client = client_for("analyst")
    body = {"name": "Big one", "record": {"id": "INV-1", "amount": 120}, "expected": EXPECTED}
    created = client.post(API + "samples/", body, content_type="application/json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert [s["name"] for s in client_for("viewer").get(API + "samples/").json()] == ["Big one"]
    again = client.post(API + "samples/", body, content_type="application/json")
    assert again.status_code == 400 and "already has a sample named" in again.json()["errors"]["name"][0]
    changed = client.patch(f"{API}samples/{pk}/", {"expected": None}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["expected"] is None
    assert client.delete(f"{API}samples/{pk}/").status_code == 204
    assert client.get(f"{API}samples/{pk}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "record": [1]}, "record"),
        ({"name": "", "record": {}}, "name"),
        ({"name": "x" * 101, "record": {}}, "name"),
        ({"name": "x", "record": {}, "expected": "text"}, "expected"),
        ({"record": {}}, "name"),
    ],
)
def test_a_bad_sample_is_a_400_naming_the_field(flow, client_for, body, field):
    answer = client_for("analyst").post(API + "samples/", body, content_type="application/json")
    assert answer.status_code == 400 and field in answer.json()["errors"]


def test_the_regression_check_reports_each_failing_sample_with_a_diff(flow, client_for, personas):
    client = client_for("analyst")
    body = {"name": "Big one", "record": {"id": "INV-1", "amount": 120}, "expected": EXPECTED}
    client.post(API + "samples/", body, content_type="application/json")
    assert client.post(API + "regression/").json() == {"checked": 1, "passed": True, "failures": []}
    changed = copy.deepcopy(INVOICE_FLOW)
    changed["steps"][1]["key"] = "inv-{{ record.external_ref }}"
    save_draft(flow, personas["analyst"], changed)
    answer = client.post(API + "regression/").json()
    assert answer["passed"] is False
    assert answer["failures"][0]["diff"] == [
        {"field": "deliveries[0].key", "expected": "invoice:INV-1", "actual": "inv-INV-1"}
    ]


def test_export_then_import_with_a_dry_run_first(flow, client_for):
    client = client_for("analyst")
    document = client.get(API + "export/").json()
    document["flows"][0]["key"] = "invoices-2"
    dry = client.post("/api/v1/flow-imports/", {"document": document}, content_type="application/json")
    assert dry.status_code == 200 and dry.json()["applied"] is False
    assert dry.json()["ok"] is True and dry.json()["flows"][0]["action"] == "create"
    assert not Flow.objects.filter(key="invoices-2").exists()
    body = {"document": document, "dry_run": False}
    done = client.post("/api/v1/flow-imports/", body, content_type="application/json")
    assert done.status_code == 201 and done.json()["applied"] is True
    assert Flow.objects.get(key="invoices-2").draft.definition == INVOICE_FLOW


def test_an_import_with_problems_is_refused_with_the_plan(flow, client_for):
    client = client_for("analyst")
    document = client.get(API + "export/").json()
    document["flows"][0]["definition"]["steps"][0]["id"] = "Bad Id"
    answer = client.post(
        "/api/v1/flow-imports/", {"document": document, "dry_run": False}, content_type="application/json"
    )
    assert answer.status_code == 400 and answer.json()["ok"] is False
    assert any("steps[0].id" in e["field"] for e in answer.json()["flows"][0]["errors"])
    bad = client.post("/api/v1/flow-imports/", {"document": {"x": 1}}, content_type="application/json")
    assert bad.status_code == 400 and "not a Switchboard flow export" in bad.json()["errors"]["document"][0]


def test_roles(flow, client_for):
    viewer = client_for("viewer")
    assert viewer.get(API + "samples/").status_code == 200 and viewer.get(API + "export/").status_code == 200
    assert (
        viewer.post(API + "samples/", {"name": "x", "record": {}}, content_type="application/json").status_code == 403
    )
    assert viewer.post(API + "regression/").status_code == 403
    assert viewer.post("/api/v1/flow-imports/", {}, content_type="application/json").status_code == 403
    assert client_for("outsider").get(API + "samples/").status_code == 403
