"""The Kantata sandbox's POST /external_references/create_or_update, as Kantata documents it:
one external reference per request, created the first time and updated the next (never a
second one), on a subject that exists, with the documented statuses; bad input is Kantata's
error naming the field."""

import json

import pytest

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.kantata import VENDOR
from integrations.sandboxes.kantata.seed import seed

pytestmark = pytest.mark.django_db

URL = "/sandbox/kantata/api/v1/external_references/create_or_update.json"


@pytest.fixture
def post(client):
    seed("test")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {sandbox_credentials(VENDOR)['access_token']}"}

    def call(body: dict):
        return client.post(URL, json.dumps(body), content_type="application/json", **auth)

    return call


def an_entry() -> str:
    return store.records(VENDOR, "time_entries").order_by("id").first().record_id


def billed(entry: str, **fields) -> dict:
    return {"external_reference": {"subject_type": "TimeEntry", "subject_id": entry, "service_name": "switchboard",
                                   "service_model": "time_bill", "service_model_ref": f"tb:P:W:2026-03:1-2:2#{entry}",
                                   "status": "successful", "external_status": "billed", **fields}}  # fmt: skip


def references_of(entry: str) -> list[dict]:
    rows = store.records(VENDOR, "external_references").filter(data__subject_type="TimeEntry", data__subject_id=entry)
    return [row.data for row in rows]


def test_a_reference_is_created_then_updated_never_doubled(post):
    entry = an_entry()
    first = post(billed(entry, status="pending"))
    assert first.status_code == 200, first.content
    body = first.json()
    (result,) = body["results"]
    assert result["key"] == "external_references"
    created = body["external_references"][result["id"]]
    assert created["subject_id"] == entry and created["status"] == "pending" and created["last_synced_at"]

    again = post(billed(entry, external_message="billed on NetSuite time bill tb:P:W:2026-03:1-2:2"))
    assert again.status_code == 200, again.content
    assert again.json()["results"] == [result]  # the same reference, updated
    (stored,) = references_of(entry)
    assert stored["status"] == "successful" and stored["external_status"] == "billed"
    assert stored["external_message"] == "billed on NetSuite time bill tb:P:W:2026-03:1-2:2"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"service_model_ref": ""}, 422, "service_model_ref"),
        ({"subject_id": "1"}, 422, "subject"),
        ({"subject_type": "Spaceship"}, 422, "subject_type"),
        ({"status": "synced"}, 422, "status"),
    ],
)
def test_bad_input_is_kantatas_error_naming_the_field(post, change, status, field):
    answer = post(billed(an_entry(), **change))
    assert answer.status_code == status, answer.content
    (error,) = answer.json()["errors"]
    assert error["field"] == field and error["message"]
    assert store.records(VENDOR, "external_references").filter(data__service_model="time_bill").count() == 0


def test_the_endpoint_takes_one_object_not_a_list(post):
    entry = an_entry()
    answer = post({"external_references": [billed(entry)["external_reference"]]})
    assert answer.status_code == 400
    assert "external_reference" in answer.json()["errors"][0]["message"]
    assert references_of(entry) == []


def test_a_reference_taken_by_another_subject_is_refused(post):
    first, second = [r.record_id for r in store.records(VENDOR, "time_entries").order_by("id")[:2]]
    assert post(billed(first, service_model_ref="shared")).status_code == 200
    answer = post(billed(second, service_model_ref="shared"))
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "service_model_ref"
    assert references_of(second) == []
