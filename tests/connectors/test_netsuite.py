"""NetSuite SuiteTalk REST: the connector against its sandbox over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone

from integrations.connectors import netsuite_tba
from integrations.connectors.errors import ConnectorError
from integrations.connectors.netsuite import NetSuiteConnector
from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_one
from integrations.deliveries.services import request_delivery
from integrations.sandboxes import bearer
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.models import SandboxFault, SandboxRecord, SandboxRequest
from integrations.sandboxes.netsuite import VENDOR, account, keys
from integrations.sandboxes.netsuite.seed import seed
from tests.connectors.contract import make_connection
from tests.connectors.shapes import assert_transient, assert_upserted_once, limit_sandbox, refusal

pytestmark = pytest.mark.django_db(transaction=True)


def connector_for(origin: str, private_key: str | None = None, on_attempt=None, **config_changes) -> NetSuiteConnector:
    config = {
        "account_id": "1234567_SB1",
        "client_id": sandbox_credentials(VENDOR)["client_id"],
        "certificate_id": keys.CERTIFICATE_ID,
        **config_changes,
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
    assert [r["id"] for r in changed.records] == ["50007"] and changed.watermark == "2026-01-02T03:04:05"
    assert changed.records[0]["lastmodifieddate"] == "2026-01-02T03:04:05"


def test_create_takes_the_id_from_location(netsuite):
    result = netsuite.create(
        "customer", {"companyName": "Globex Advisory", "subsidiary": {"id": "1"}}, idempotency_key="create-globex-1"
    )
    assert result.created and result.status_code == 204
    assert store.get(VENDOR, "customer", result.remote_id).data["companyName"] == "Globex Advisory"


def test_a_key_on_a_synchronous_request_is_ignored_as_documented(netsuite):
    """Oracle: the idempotency key applies to asynchronous requests. A synchronous POST
    with the same key twice makes two records, so the connector must not rely on it."""
    body = {"companyName": "Initech", "subsidiary": {"id": "1"}}
    headers = {"X-NetSuite-Idempotency-Key": "sync-key-1"}
    for _ in range(2):
        answer = netsuite.request("POST", "services/rest/record/v1/customer", json=body, headers=headers)
        assert answer.status_code == 204
    assert store.records(VENDOR, "customer").filter(data__companyName="Initech").count() == 2


def test_a_keyed_create_goes_out_asynchronously_and_posts_once(netsuite, origin):
    attempts = []
    conn = connector_for(origin, on_attempt=attempts.append)
    body = {"companyName": "Initrode", "subsidiary": {"id": "1"}}
    first = conn.create("customer", body, idempotency_key="key-1")
    again = conn.create("customer", body, idempotency_key="key-1")
    assert first.remote_id == again.remote_id
    assert store.records(VENDOR, "customer").filter(data__companyName="Initrode").count() == 1
    posts = [a for a in attempts if a.method == "POST" and a.url.endswith("/record/v1/customer")]
    assert [p.status_code for p in posts] == [202, 400]  # the second names the first job
    assert all(p.request_headers.get("prefer") == "respond-async" for p in posts)
    polls = [a for a in attempts if "/async/v1/job/" in a.url]
    assert any(a.url.endswith("/result") for a in polls)
    assert SandboxRequest.objects.filter(vendor=VENDOR, idempotency_key="key-1").count() == 2


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
    # The retry is refused as a repeat and pointed at the first job, whose result it reads.
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


def test_suiteql_dates_follow_the_account_format_and_the_watermark_still_orders(netsuite, origin):
    """SuiteQL answers dates as the account's preference writes them (here D.M.YYYY):
    "31.12.2025" sorts after "2.1.2026" as text, so the watermark comes from TO_CHAR copies."""
    account.set_date_format("D.M.YYYY")
    for rid, stamp in (("50001", "2025-12-31T23:00:00Z"), ("50002", "2026-01-02T03:04:05Z")):
        row = store.get(VENDOR, "timeBill", rid)
        store.update(row, {"lastModifiedDate": stamp})
    raw = netsuite.suiteql("SELECT id, lastmodifieddate, trandate FROM timebill WHERE id = '50002'", limit=1, offset=0)
    assert raw["items"][0]["lastmodifieddate"] == "2.1.2026 3:04 am"
    assert "." in raw["items"][0]["trandate"]
    page = netsuite.query("timeBill", since="2025-12-01T00:00:00")
    assert {r["id"] for r in page.records} == {"50001", "50002"}
    assert page.watermark == "2026-01-02T03:04:05"
    assert all(len(r["trandate"]) == 10 and r["trandate"][4] == "-" for r in page.records)


def test_time_bill_is_the_timebill_record_and_hours_a_duration(netsuite, origin):
    attempts = []
    conn = connector_for(origin, on_attempt=attempts.append)
    body = {"employee": {"id": "300"}, "tranDate": "2025-04-16", "hours": 7.5}
    made = conn.upsert("timeBill", "externalId", "KAN-TE-77", body)
    stored = store.get_by_external_id(VENDOR, "timeBill", "KAN-TE-77")
    assert stored.record_id == made.remote_id and stored.data["hours"] == "7:30"
    assert attempts[-1].url.endswith("/record/v1/timebill/eid:KAN-TE-77")
    assert conn.read("timeBill", made.remote_id)["hours"] == 7.5
    conn.update("timeBill", made.remote_id, {"hours": 7.33})  # 7 h 20 min
    assert store.get(VENDOR, "timeBill", made.remote_id).data["hours"] == "7:20"
    assert conn.read("timeBill", made.remote_id)["hours"] == 7.33
    with pytest.raises(ConnectorError) as err:  # the record API takes no decimal hours
        conn.request("PATCH", f"services/rest/record/v1/timebill/{made.remote_id}", json={"hours": 7.5})
    assert err.value.vendor_code == "INVALID_VALUE"
    with pytest.raises(ConnectorError) as err:
        conn.update("timeBill", made.remote_id, {"hours": "seven"})
    assert err.value.kind == "permanent" and "hours" in err.value.message


def _tba(origin: str, on_attempt=None, **creds_changes) -> NetSuiteConnector:
    creds = sandbox_credentials(VENDOR)
    config = {"account_id": "1234567_sb1", "auth_mode": "tba", "consumer_key": creds["consumer_key"]}
    secrets = {name: creds[name] for name in ("consumer_secret", "token_id", "token_secret")} | creds_changes
    connection = make_connection("netsuite", f"{origin}/sandbox/{VENDOR}", config, secrets)
    return NetSuiteConnector(connection, on_attempt=on_attempt)


def test_token_based_authentication_signs_each_request(netsuite, origin):
    attempts = []
    conn = _tba(origin, attempts.append)
    assert conn.read("customer", "1000")["externalId"] == "C-10001"
    page = conn.query("customer", cursor="5", page_size=5)  # query parameters are signed too
    assert len(page.records) == 5
    assert attempts[0].request_headers.get("authorization") == "[redacted]"  # never in the attempt log
    header = netsuite_tba.authorization(
        "GET", "https://x.example/r", [], account_id="1234567-sb1", consumer_key="ck",
        consumer_secret="cs", token_id="t", token_secret="ts",
    )  # fmt: skip
    assert header.startswith('OAuth realm="1234567_SB1", ') and 'oauth_signature_method="HMAC-SHA256"' in header
    assert not any("oauth2/v1/token" in a.url for a in attempts)
    assert all(conn.credentials["token_secret"] not in a.request_excerpt for a in attempts)
    with pytest.raises(ConnectorError) as err:
        _tba(origin, token_secret="not-the-secret").read("customer", "1000")
    assert err.value.status_code == 401 and err.value.vendor_code == "INVALID_LOGIN"
    assert conn.test().ok


def test_the_token_endpoint_checks_the_scope_claim(netsuite, origin):
    with pytest.raises(ConnectorError) as err:
        connector_for(origin, scope="restlets").read("customer", "1000")
    assert err.value.vendor_code == "invalid_grant" and "rest_webservices" in err.value.message
    assert connector_for(origin, scope="restlets,rest_webservices").read("customer", "1000")["id"] == "1000"


def test_connection_test_says_what_it_checked(netsuite, origin):
    result = netsuite.test()
    assert result.ok
    assert [c.name for c in result.checks] == ["Token", "Permissions", "SuiteQL", "API version"]
    assert "timeBill" in result.checks[1].detail
    bad = connector_for(origin, certificate_id="no-such-cert").test()
    assert not bad.ok and not bad.checks[0].ok and "certificate ID" in bad.checks[0].detail
    assert bad.checks[1].detail.startswith("Not checked")


def test_the_ledger_posts_a_time_bill_once_after_a_dropped_answer(netsuite, django_capture_on_commit_callbacks):
    """The delivery ledger's create carries its key; NetSuite honours it only asynchronously,
    so the retry after a lost answer meets the first job instead of posting again."""
    SandboxFault.objects.create(vendor=VENDOR, kind="drop_after_commit", writes_only=True)
    payload = {"employee": {"id": "300"}, "tranDate": "2025-04-16", "hours": 7.5, "memo": "ledger-once"}
    delivery = request_delivery(
        run=None,
        step_id="post",
        connection=netsuite.connection,
        object="timeBill",
        action="create",
        key="timesheet:ledger-once",
        payload=payload,
        enqueue=False,
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliver_one(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state != "SUCCEEDED" and delivery.unclear_attempts == 1
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())  # past its settle time
    with django_capture_on_commit_callbacks(execute=True):
        deliver_one(delivery.pk)
    delivery.refresh_from_db()
    bills = store.records(VENDOR, "timeBill").filter(data__memo="ledger-once")
    assert delivery.state == "SUCCEEDED", delivery.last_error
    assert bills.count() == 1 and bills.first().record_id == delivery.remote_id
    assert bills.first().data["hours"] == "7:30"


def test_a_refused_asynchronous_create_reports_netsuite_error_and_writes_nothing(netsuite):
    before = store.records(VENDOR, "customer").count()
    for _ in range(2):  # the repeat meets the same failed job: still no record
        with pytest.raises(ConnectorError) as err:
            netsuite.create("customer", {"email": "x@example.com"}, idempotency_key="refused-key")
        assert err.value.kind == "permanent" and err.value.vendor_code == "USER_ERROR"
        assert "Please enter value(s) for: Company Name" in err.value.message
    assert store.records(VENDOR, "customer").count() == before
