"""Kantata OX: the connector against its sandbox over real HTTP (live_server)."""

from __future__ import annotations

import httpx
import pytest

from integrations.connectors.errors import ConnectorError
from integrations.connectors.kantata import THROTTLE_RETRY_SECONDS, UNAVAILABLE_RETRY_SECONDS, KantataConnector
from integrations.sandboxes import bearer
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.kantata import VENDOR
from integrations.sandboxes.kantata.auth import authorization_code
from integrations.sandboxes.kantata.seed import seed
from integrations.sandboxes.models import SandboxFault, SandboxRequest
from tests.connectors.contract import make_connection
from tests.connectors.shapes import (
    assert_malformed_is_4xx,
    assert_transient,
    assert_upserted_once,
    demo_connector,
    limit_sandbox,
    refusal,
)

pytestmark = pytest.mark.django_db(transaction=True)


def connector_for(origin: str, attempts: list | None = None, token: str | None = None) -> KantataConnector:
    token = token or sandbox_credentials(VENDOR)["access_token"]
    connection = make_connection(VENDOR, f"{origin}/sandbox/{VENDOR}", {}, {"access_token": token})
    return KantataConnector(connection, on_attempt=attempts.append if attempts is not None else None)


def workspace(**fields) -> dict:
    return {"title": "Globex - Cloud Migration", "creator_role": "maven", "price": "120000",
            "start_date": "2025-05-01", "due_date": "2025-09-30", **fields}  # fmt: skip


# --- auth ----------------------------------------------------------------------------------------
def test_bad_token_is_permanent_with_kantata_message(sandbox_origin):
    conn = connector_for(sandbox_origin, token="not-a-kantata-token")
    with pytest.raises(ConnectorError) as err:
        conn.read("workspaces", "41290001")
    assert err.value.kind == "permanent" and err.value.status_code == 401 and err.value.vendor_code == "oauth"
    assert "access token is invalid or has been revoked" in err.value.message
    result = conn.test()
    assert not result.ok and "revoked" in result.message


def test_authorization_code_exchange_gives_a_token_that_works(kantata, sandbox_origin):
    creds = sandbox_credentials(VENDOR)
    form = {"grant_type": "authorization_code", "client_id": creds["client_id"],
            "client_secret": creds["client_secret"], "code": authorization_code(),
            "redirect_uri": "https://x/cb"}  # fmt: skip
    answer = httpx.post(f"{sandbox_origin}/sandbox/{VENDOR}/oauth/token", data=form)
    assert answer.status_code == 200 and answer.json()["token_type"] == "bearer"
    assert "expires_in" not in answer.json()  # Kantata tokens do not expire
    assert connector_for(sandbox_origin, token=answer.json()["access_token"]).test().ok
    refused = httpx.post(f"{sandbox_origin}/sandbox/{VENDOR}/oauth/token", data={**form, "code": "stale"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_revoked_token_is_permanent_and_not_retried(kantata, sandbox_origin):
    creds = sandbox_credentials(VENDOR)
    form = {"grant_type": "authorization_code", "client_id": creds["client_id"],
            "client_secret": creds["client_secret"], "code": authorization_code()}  # fmt: skip
    token = httpx.post(f"{sandbox_origin}/sandbox/{VENDOR}/oauth/token", data=form).json()["access_token"]
    attempts: list = []
    conn = connector_for(sandbox_origin, attempts, token=token)
    assert conn.read("workspaces", "41290001")["id"] == "41290001"
    bearer.revoke_all(VENDOR)
    with pytest.raises(ConnectorError) as err:
        conn.read("workspaces", "41290001")
    assert err.value.kind == "permanent" and err.value.status_code == 401
    assert [a.status_code for a in attempts] == [200, 401]  # no token endpoint to refresh from
    assert not any(token in a.url + str(a.request_headers) for a in attempts)


# --- read and query -----------------------------------------------------------------------------
def test_read_unwraps_the_envelope(kantata):
    record = kantata.read("workspaces", "41290001")
    stored = store.get(VENDOR, "workspaces", "41290001").data
    assert record == stored and record["price"].startswith("$") and record["price_in_cents"] > 0


def test_read_missing_is_permanent_not_found(kantata):
    with pytest.raises(ConnectorError) as err:
        kantata.read("workspaces", "1")
    assert err.value.status_code == 404 and err.value.vendor_code == "not_found"
    assert "could not be found" in err.value.message


def test_query_pages_through_1000_plus_time_entries(kantata, sandbox_origin):
    total = store.records(VENDOR, "time_entries").count()
    attempts: list = []
    conn = connector_for(sandbox_origin, attempts)
    entries = list(conn.iterate("time_entries", page_size=500))  # Kantata caps per_page at 200
    assert len(entries) == total >= 1000 and len({e["id"] for e in entries}) == total
    pages = [a for a in attempts if "/time_entries.json" in a.url]
    assert len(pages) == -(-total // 200) and "per_page=200" in pages[0].url and f"page={len(pages)}" in pages[-1].url
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), key=int)


def test_poll_since_watermark_and_filters(kantata):
    page = kantata.query("time_entries", since="2025-06-01T00:00:00+00:00")
    assert page.records and all(r["updated_at"] >= "2025-06-01T00:00:00+00:00" for r in page.records)
    stamps = [r["updated_at"] for r in page.records]
    assert stamps == sorted(stamps) and page.watermark == stamps[-1]
    assert page.next_cursor == ("2" if len(page.records) == 200 else None)
    approved = kantata.query("time_entries", filters={"approved": "true", "workspace_id": "41290001"})
    assert approved.records and all(r["approved"] and r["workspace_id"] == "41290001" for r in approved.records)


# --- writes -------------------------------------------------------------------------------------------
def test_create_and_update_workspace(kantata):
    result = kantata.create("workspaces", workspace())
    assert result.created and result.status_code == 200
    kantata.update("workspaces", result.remote_id, {"title": "Globex - Cloud Migration Phase 2"})
    stored = store.get(VENDOR, "workspaces", result.remote_id).data
    assert (
        stored["title"].endswith("Phase 2") and stored["price"] == "$120,000" and stored["price_in_cents"] == 12_000_000
    )


def test_upsert_twice_by_external_reference_gives_one_record(kantata):
    first = kantata.upsert("workspaces", "opportunity", "OPP-77001", workspace())
    second = kantata.upsert("workspaces", "opportunity", "OPP-77001", workspace(title="Renamed"))
    refs = store.records(VENDOR, "external_references").filter(data__service_model_ref="OPP-77001")
    assert assert_upserted_once(first, second, refs).data["subject_id"] == first.remote_id
    assert store.get(VENDOR, "workspaces", first.remote_id).data["title"] == "Renamed"
    assert store.records(VENDOR, "workspaces").filter(data__title__in=["Renamed", workspace()["title"]]).count() == 1
    writes = SandboxRequest.objects.filter(vendor=VENDOR).order_by("id")
    assert [w.method for w in writes] == ["POST", "PUT"] and writes[0].external_id == "OPP-77001"


def test_seeded_workspace_is_found_by_its_crm_reference(kantata):
    found = kantata.find_by_external_ref("workspaces", "opportunity", "OPP-00001")
    # The seed links workspaces to Salesforce opportunities under service "salesforce", not ours.
    assert found is None
    kantata.config["service_name"] = "salesforce"
    found = kantata.find_by_external_ref("workspaces", "opportunity", kantata.read("workspaces", "41290001")[
        "description"].removeprefix("From CRM "))  # fmt: skip
    assert found.remote_id == "41290001"


# --- throttling -----------------------------------------------------------------------------------------
def test_rate_limit_is_bare_429_mapped_to_a_small_delay(kantata):
    limit_sandbox(VENDOR, 1, 60)
    kantata.read("workspaces", "41290001")
    error = refusal(kantata.read, "workspaces", "41290001")
    assert_transient(error, status=429, retry_after=THROTTLE_RETRY_SECONDS, vendor_code="rate_limit")


@pytest.mark.parametrize(("fault", "retry_after"), [
    ({"kind": "maintenance", "retry_after": 45}, 45.0),
    ({"kind": "status", "status_code": 503, "body": "Service Unavailable"}, UNAVAILABLE_RETRY_SECONDS),
])  # fmt: skip
def test_503_is_transient(kantata, fault, retry_after):
    SandboxFault.objects.create(vendor=VENDOR, **fault)
    assert_transient(refusal(kantata.create, "workspaces", workspace()), status=503, retry_after=retry_after)
    assert not store.records(VENDOR, "workspaces").filter(data__title=workspace()["title"]).exists()


# --- validation -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("object_name", "record", "text"),
    [
        ("workspaces", workspace(title=""), "title: Title can't be blank"),
        ("workspaces", workspace(creator_role="boss"), "creator_role: Creator role is not included in the list"),
        ("workspaces", workspace(due_date="2025-01-01"), "due_date: Due date must be on or after the start date"),
        ("time_entries", {"workspace_id": "41290001", "date_performed": "2025-05-02", "time_in_minutes": 0},
         "time_in_minutes: Time in minutes must be greater than 0"),
        ("time_entries", {"workspace_id": "1", "date_performed": "2025-05-02", "time_in_minutes": 60},
         "workspace_id: Workspace must exist"),
        ("time_entries", {"workspace_id": "41290001", "date_performed": "May 2", "time_in_minutes": 60},
         "date_performed: Date performed is not a valid date"),
    ],
)  # fmt: skip
def test_validation_errors_are_permanent_with_kantata_message(kantata, object_name, record, text):
    before = store.records(VENDOR, object_name).count()
    with pytest.raises(ConnectorError) as err:
        kantata.create(object_name, record)
    assert err.value.kind == "permanent" and err.value.status_code == 422 and err.value.vendor_code == "validation"
    assert text in err.value.message
    assert store.records(VENDOR, object_name).count() == before


def test_bulk_create_with_one_invalid_item_writes_nothing(kantata):
    body = {"workspaces": [workspace(title="Ok one"), workspace(title="")]}
    with pytest.raises(ConnectorError) as err:
        kantata.request("POST", "api/v1/workspaces.json", json=body)
    assert err.value.status_code == 422
    assert not store.records(VENDOR, "workspaces").filter(data__title="Ok one").exists()


def test_participations_index_needs_a_workspace(kantata):
    with pytest.raises(ConnectorError) as err:
        kantata.query("participations")
    assert err.value.status_code == 400 and "workspace_id is required" in err.value.message
    members = kantata.query("participations", filters={"workspace_id": "41290001"})
    assert members.records and {m["workspace_id"] for m in members.records} == {"41290001"}


# --- the sandbox's own refusals; the demo connection -------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "api/v1/workspaces.json", b"[1]"),
        ("POST", "api/v1/workspaces.json", b"{not json"),
        ("POST", "api/v1/workspaces.json", b'{"workspace": "title"}'),
        ("POST", "api/v1/workspaces.json", b'{"workspaces": []}'),
        ("POST", "api/v1/workspaces.json", b'{"workspace": {"title": "x", "creator_role": "maven", '
                                           b'"external_references_attributes": "x"}}'),
        ("POST", "api/v1/users.json", b'{"user": {"full_name": "x"}}'),
        ("PUT", "api/v1/workspaces/41290001.json", b'{"workspace": [1]}'),
        ("GET", "api/v1/time_entries.json?page=x", b""),
        ("GET", "api/v1/time_entries.json?order=notes:sideways", b""),
        ("GET", "api/v1/time_entries.json?updated_after=yesterday", b""),
        ("GET", "api/v1/widgets.json", b""),
    ],
)  # fmt: skip
def test_malformed_requests_get_a_kantata_4xx_never_a_500(kantata, method, path, body):
    assert_malformed_is_4xx(kantata, method, path, body)


def test_demo_connection_works_out_of_the_box(sandbox_origin):
    demo_connector(VENDOR, seed)


def test_dropped_answer_after_create_is_ambiguous_and_the_retry_finds_the_record(kantata):
    kantata.find_by_external_ref("workspaces", "opportunity", "OPP-88001")  # warm up outside the fault
    SandboxFault.objects.create(vendor=VENDOR, kind="drop_after_commit", writes_only=True)
    with pytest.raises(ConnectorError) as err:
        kantata.upsert("workspaces", "opportunity", "OPP-88001", workspace(title="Dropped answer"))
    assert err.value.kind == "transient" and err.value.ambiguous
    retry = kantata.upsert("workspaces", "opportunity", "OPP-88001", workspace(title="Dropped answer"))
    assert not retry.created  # found through its external reference: no second workspace
    assert store.records(VENDOR, "workspaces").filter(data__title="Dropped answer").count() == 1


def test_expenses_and_invoices(kantata):
    invoices = kantata.query("invoices", filters={"paid": "false"})
    assert invoices.records and all(not i["paid"] and i["balance_in_cents"] > 0 for i in invoices.records)
    result = kantata.upsert("expenses", "expense", "EX-9001",
                            {"workspace_id": "41290001", "date": "2025-05-02", "category": "Travel",
                             "amount_in_cents": 41250})  # fmt: skip
    assert result.created and kantata.read("expenses", result.remote_id)["amount_in_cents"] == 41250
    assert kantata.upsert("expenses", "expense", "EX-9001", {"notes": "Taxi"}).remote_id == result.remote_id
    with pytest.raises(ConnectorError) as err:
        kantata.create("expenses", {"workspace_id": "41290001", "date": "2025-05-02", "category": "Meals",
                                    "amount_in_cents": -5})  # fmt: skip
    assert err.value.status_code == 422 and "Amount in cents must be greater than or equal to 0" in err.value.message
    with pytest.raises(ConnectorError) as err:
        kantata.create("invoices", {"number": "INV-1"})
    assert err.value.status_code == 405


def test_a_secret_echoed_in_a_throttle_body_is_redacted(kantata):
    token = kantata.credentials["access_token"]
    SandboxFault.objects.create(vendor=VENDOR, kind="status", status_code=429, body=f"slow down, token {token}")
    with pytest.raises(ConnectorError) as err:
        kantata.read("workspaces", "41290001")
    assert err.value.kind == "transient" and "slow down" in err.value.message and token not in err.value.message


def test_a_change_in_the_watermark_second_is_not_missed(kantata):
    page = kantata.query("time_entries", since="2025-06-01T00:00:00+00:00")
    late = store.records(VENDOR, "time_entries").exclude(record_id__in=[r["id"] for r in page.records]).first()
    store.update(late, {"updated_at": page.watermark})  # committed in the same second, after the poll read
    assert late.record_id in [r["id"] for r in kantata.query("time_entries", since=page.watermark).records]


def test_a_reference_taken_by_a_concurrent_request_is_422_and_writes_nothing(kantata, monkeypatch):
    from integrations.sandboxes.kantata import views

    kantata.upsert("workspaces", "opportunity", "OPP-RACE", workspace(title="Winner"))
    monkeypatch.setattr(views, "_check_reference_free", lambda data: None)  # as if both checked at once
    reference = {"service_name": "switchboard", "service_model": "opportunity", "service_model_ref": "OPP-RACE"}
    with pytest.raises(ConnectorError) as err:
        kantata.create("workspaces", {**workspace(title="Loser"), "external_references_attributes": [reference]})
    assert err.value.status_code == 422 and "Service model ref has already been taken" in err.value.message
    assert not store.records(VENDOR, "workspaces").filter(data__title="Loser").exists()
