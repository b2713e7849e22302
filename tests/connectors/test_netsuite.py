"""NetSuite SuiteTalk REST: the connector against its sandbox over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from integrations.connectors.errors import ConnectorError
from integrations.connectors.netsuite import NetSuiteConnector
from integrations.sandboxes import bearer
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.models import SandboxFault, SandboxRecord, SandboxRequest
from integrations.sandboxes.netsuite import VENDOR, keys
from integrations.sandboxes.netsuite.seed import seed
from tests.connectors.contract import make_connection
from tests.connectors.shapes import assert_transient, assert_upserted_once, limit_sandbox, refusal

pytestmark = pytest.mark.django_db(transaction=True)


def connector_for(origin: str, private_key: str | None = None, on_attempt=None) -> NetSuiteConnector:
    config = {
        "account_id": "1234567_SB1",
        "client_id": sandbox_credentials(VENDOR)["client_id"],
        "certificate_id": keys.CERTIFICATE_ID,
    }
    creds = {"private_key": private_key or keys.private_key_pem()}
    connection = make_connection("netsuite", f"{origin}/sandbox/{VENDOR}", config, creds)
    return NetSuiteConnector(connection, on_attempt=on_attempt)


@pytest.fixture
def netsuite(origin):
    seed("test")
    return connector_for(origin)


def test_assertion_signed_with_the_wrong_key_is_refused(origin):
    stranger = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    with pytest.raises(ConnectorError) as err:
        connector_for(origin, stranger).read("customer", "1000")
    assert err.value.kind == "permanent" and err.value.vendor_code == "invalid_grant"
    assert "signature does not match the certificate" in err.value.message


def test_expired_token_is_refreshed_once(netsuite, origin):
    attempts = []
    conn = connector_for(origin, on_attempt=attempts.append)
    assert conn.read("customer", "1000")["externalId"] == "C-10001"
    bearer.revoke_all(VENDOR)
    assert conn.read("customer", "1001")["id"] == "1001"
    assert [a.status_code for a in attempts] == [200, 200, 401, 200, 200]
    assert sum(a.url.endswith("/oauth2/v1/token") for a in attempts) == 2
    assert all("PRIVATE KEY" not in a.request_excerpt for a in attempts)
    assert all("client_assertion=ey" not in a.request_excerpt for a in attempts)


def test_read_by_id_and_unknown_id(netsuite):
    job = netsuite.read("job", "4000")
    assert job["externalId"] == "PRJ-2025-0001" and job["parent"]["id"].isdigit()
    with pytest.raises(ConnectorError) as err:
        netsuite.read("job", "999999")
    assert err.value.status_code == 404 and err.value.vendor_code == "NONEXISTENT_ID"


def test_suiteql_poll_pages_through_1200_time_bills(netsuite, origin):
    attempts = []
    conn = connector_for(origin, on_attempt=attempts.append)
    rows = list(conn.iterate("timeBill", page_size=500))
    assert len(rows) == 1200 and len({r["id"] for r in rows}) == 1200
    assert rows[0]["isbillable"] in ("T", "F") and "employee" in rows[0]
    pages = [a for a in attempts if "suiteql" in a.url]
    assert [p.url.split("offset=")[1] for p in pages] == ["0", "500", "1000"]
    assert all(p.request_headers.get("prefer") == "transient" for p in pages)
    SandboxRecord.objects.filter(vendor=VENDOR, object_type="timeBill", record_id="50007").update(
        data={**store.get(VENDOR, "timeBill", "50007").data, "lastModifiedDate": "2026-01-02T03:04:05Z"}
    )
    changed = conn.query("timeBill", since="2026-01-01T00:00:00Z")
    assert [r["id"] for r in changed.records] == ["50007"] and changed.watermark == "2026-01-02T03:04:05Z"


def test_create_takes_the_id_from_location(netsuite):
    result = netsuite.create(
        "customer", {"companyName": "Globex Advisory", "subsidiary": {"id": "1"}}, idempotency_key="create-globex-1"
    )
    assert result.created and result.status_code == 204
    assert store.get(VENDOR, "customer", result.remote_id).data["companyName"] == "Globex Advisory"


def test_idempotency_key_replays_and_refuses_a_different_body(netsuite):
    body = {"companyName": "Initech", "subsidiary": {"id": "1"}}
    first = netsuite.create("customer", body, idempotency_key="key-1")
    again = netsuite.create("customer", body, idempotency_key="key-1")
    assert first.remote_id == again.remote_id
    assert store.records(VENDOR, "customer").filter(data__companyName="Initech").count() == 1
    with pytest.raises(ConnectorError) as err:
        netsuite.create("customer", {**body, "companyName": "Initrode"}, idempotency_key="key-1")
    assert err.value.kind == "permanent" and err.value.vendor_code == "IDEMPOTENCY_ERROR"
    logged = SandboxRequest.objects.filter(vendor=VENDOR, idempotency_key="key-1")
    assert logged.count() == 3


def test_upsert_by_external_id_twice_gives_one_record(netsuite):
    first = netsuite.upsert(
        "customer", "externalId", "SF-001XYZ", {"companyName": "Umbrella", "subsidiary": {"id": "2"}}
    )
    second = netsuite.upsert("customer", "externalId", "SF-001XYZ", {"companyName": "Umbrella Corp"})
    rows = store.records(VENDOR, "customer").filter(external_id="SF-001XYZ")
    assert assert_upserted_once(first, second, rows, reports_created=False).data["companyName"] == "Umbrella Corp"
    assert netsuite.find_by_external_ref("customer", "externalId", "SF-001XYZ").remote_id == first.remote_id
    assert netsuite.find_by_external_ref("customer", "externalId", "nope") is None


def test_concurrency_limit_is_transient(netsuite):
    SandboxFault.objects.create(vendor=VENDOR, kind="throttle")
    # NetSuite sends no Retry-After: the runner's backoff decides.
    error = refusal(netsuite.read, "customer", "1000")
    assert_transient(error, status=429, retry_after=None, vendor_code="CONCURRENCY_LIMIT_EXCEEDED")


def test_rate_limit_window_maps_to_the_same_signal(netsuite):
    limit_sandbox(VENDOR, 2, 3600)
    netsuite.read("customer", "1000")
    netsuite.read("customer", "1001")
    assert_transient(refusal(netsuite.read, "customer", "1002"), vendor_code="CONCURRENCY_LIMIT_EXCEEDED")


@pytest.mark.parametrize(
    ("record", "code", "text"),
    [
        ({"email": "x@example.com"}, "USER_ERROR", "Please enter value(s) for: Company Name, Primary Subsidiary."),
        ({"companyName": "Acme", "subsidiary": {"id": "99"}}, "INVALID_VALUE", "Invalid value for field subsidiary."),
        (
            {"companyName": "Acme", "subsidiary": {"id": "1"}, "shoeSize": 9},
            "INVALID_FIELD",
            "Invalid field name 'shoeSize'",
        ),
    ],
)
def test_validation_errors_are_permanent_with_netsuite_detail(netsuite, record, code, text):
    before = store.records(VENDOR, "customer").count()
    with pytest.raises(ConnectorError) as err:
        netsuite.create("customer", record)
    assert err.value.kind == "permanent" and err.value.status_code == 400
    assert err.value.vendor_code == code and text in err.value.message
    assert store.records(VENDOR, "customer").count() == before


def test_suiteql_errors_and_test_connection(netsuite):
    with pytest.raises(ConnectorError) as err:
        netsuite.suiteql("SELECT shoesize FROM customer", limit=10, offset=0)
    assert "Field 'shoesize' for record 'customer' was not found" in err.value.message
    with pytest.raises(ConnectorError) as err:
        netsuite.suiteql("SELECT id FROM customer", limit=5000, offset=0)
    assert "between 1 and 1000" in err.value.message
    assert netsuite.test().ok


def test_record_list_returns_ids_only_and_filters_with_q(netsuite):
    body = netsuite.request("GET", "services/rest/record/v1/customer", params={"limit": 5}).json()
    assert body["count"] == 5 and body["hasMore"] and body["totalResults"] == 12
    assert set(body["items"][0]) == {"links", "id"}
    assert any(link["rel"] == "next" and "offset=5" in link["href"] for link in body["links"])
    netsuite.update("customer", "1003", {"companyName": "Northwind Holdings"})
    q = 'companyName START_WITH "northwind" AND dateCreated ON_OR_AFTER "1/1/2025"'
    found = netsuite.request("GET", "services/rest/record/v1/customer", params={"q": q}).json()
    names = {netsuite.read("customer", item["id"])["companyName"] for item in found["items"]}
    assert names and all(n.lower().startswith("northwind") for n in names) and "Northwind Holdings" in names
    with pytest.raises(ConnectorError) as err:
        netsuite.request("GET", "services/rest/record/v1/customer", params={"q": "shoeSize IS 9"})
    assert err.value.vendor_code == "INVALID_PARAMETER" and "unknown field 'shoeSize'" in err.value.message


def test_dropped_answer_then_retry_with_the_same_key_posts_once(netsuite):
    SandboxFault.objects.create(vendor=VENDOR, kind="drop_after_commit", writes_only=True)
    body = {"employee": {"id": "300"}, "tranDate": "2025-04-16", "hours": 7.5, "externalId": "KAN-TE-1"}
    with pytest.raises(ConnectorError) as err:
        netsuite.create("timeBill", body, idempotency_key="ledger-key-1")
    assert err.value.transient and err.value.ambiguous  # committed, but the answer was lost
    retry = netsuite.create("timeBill", body, idempotency_key="ledger-key-1")
    assert store.records(VENDOR, "timeBill").filter(external_id="KAN-TE-1").count() == 1
    assert store.get_by_external_id(VENDOR, "timeBill", "KAN-TE-1").record_id == retry.remote_id


def test_governance_refusals_sent_as_400_are_transient(origin):
    """NetSuite also refuses for load with a 400 and SSS_REQUEST_LIMIT_EXCEEDED."""
    netsuite = connector_for(origin)
    body = {
        "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
        "title": "Bad Request",
        "status": 400,
        "o:errorDetails": [{"detail": "Request limit exceeded.", "o:errorCode": "SSS_REQUEST_LIMIT_EXCEEDED"}],
    }
    error = netsuite.rate_limit_from_response(
        httpx.Response(400, json=body, request=httpx.Request("GET", "https://1234567.suitetalk.api.netsuite.com/x"))
    )
    assert error is not None and error.transient and error.vendor_code == "SSS_REQUEST_LIMIT_EXCEEDED"
    body["o:errorDetails"][0]["o:errorCode"] = "USER_ERROR"
    assert (
        netsuite.rate_limit_from_response(
            httpx.Response(400, json=body, request=httpx.Request("GET", "https://x.example/"))
        )
        is None
    )


def test_a_pem_pasted_into_a_one_line_field_still_signs(origin):
    flattened = keys.private_key_pem().replace("\n", "")  # what an <input> does to a pasted PEM
    conn = connector_for(origin, flattened)
    assert conn.test().ok


def test_look_up_by_another_field_goes_through_suiteql(netsuite):
    employee = store.get(VENDOR, "employee", "300").data
    assert netsuite.find_by_external_ref("employee", "email", employee["email"]).remote_id == "300"
    assert netsuite.find_by_external_ref("employee", "email", employee["email"].upper()) is None  # case-sensitive
    assert netsuite.find_by_external_ref("employee", "email", "o'nobody@example.com") is None
    with pytest.raises(ConnectorError):
        netsuite.find_by_external_ref("employee", "email; DROP", "x")


@pytest.mark.postgres
def test_concurrent_twins_with_one_idempotency_key_post_once(netsuite, origin):
    """Real concurrency needs PostgreSQL: the second request waits on the key's row, then replays."""
    from concurrent.futures import ThreadPoolExecutor

    body = {"companyName": "Twin Co", "subsidiary": {"id": "1"}}

    connection = netsuite.connection

    def post(_n: int):
        conn = NetSuiteConnector(connection)
        try:
            return conn.create("customer", body, idempotency_key="twin-key").remote_id
        except ConnectorError as exc:
            return exc.vendor_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(post, range(4)))
    assert store.records(VENDOR, "customer").filter(data__companyName="Twin Co").count() == 1
    ids = {a for a in answers if a and a.isdigit()}
    assert len(ids) == 1 and all(a in ids or a == "IDEMPOTENCY_ERROR" for a in answers)
