"""Salesforce: the connector against its sandbox over real HTTP (live_server)."""

from __future__ import annotations

import pytest

from integrations.connectors.errors import ConnectorError
from integrations.connectors.salesforce import (
    CONCURRENT_LIMIT_RETRY_SECONDS,
    DAILY_LIMIT_RETRY_SECONDS,
    SalesforceConnector,
)
from integrations.sandboxes import bearer
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.models import SandboxFault, SandboxRequest
from integrations.sandboxes.salesforce import VENDOR
from integrations.sandboxes.salesforce.auth import DAILY_MAX, set_api_usage
from integrations.sandboxes.salesforce.ids import make_id
from integrations.sandboxes.salesforce.seed import add_opportunities, seed
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


def connector_for(origin: str, attempts: list | None = None, **overrides) -> SalesforceConnector:
    creds = sandbox_credentials(VENDOR)
    config = {"client_id": creds["client_id"], **overrides.pop("config", {})}
    secrets = {"client_secret": creds["client_secret"], "password": creds["password"], **overrides}
    connection = make_connection(VENDOR, f"{origin}/sandbox/{VENDOR}", config, secrets)
    return SalesforceConnector(connection, on_attempt=attempts.append if attempts is not None else None)


@pytest.fixture
def salesforce(sandbox_origin):
    seed("test")
    return connector_for(sandbox_origin)


def opportunity(**fields) -> dict:
    return {"Name": "Globex - Cloud Migration", "StageName": "Prospecting", "CloseDate": "2025-06-30", **fields}


# --- auth ---------------------------------------------------------------------------------
def test_bad_client_secret_is_permanent_with_salesforce_message(sandbox_origin):
    conn = connector_for(sandbox_origin, client_secret="not-the-secret")
    with pytest.raises(ConnectorError) as err:
        conn.read("Opportunity", "0065g0000000001AAA")
    assert err.value.kind == "permanent" and err.value.status_code == 400
    assert "invalid client credentials" in err.value.message and err.value.vendor_code == "invalid_client"
    assert "not-the-secret" not in err.value.message


def test_password_grant_with_wrong_password_is_refused(sandbox_origin):
    creds = sandbox_credentials(VENDOR)
    conn = connector_for(sandbox_origin, config={"grant_type": "password", "username": creds["username"]},
                         password="wrong")  # fmt: skip
    with pytest.raises(ConnectorError) as err:
        conn.check()
    assert err.value.vendor_code == "invalid_grant" and "authentication failure" in err.value.message


def test_expired_session_is_refreshed_once(salesforce, sandbox_origin):
    attempts: list = []
    conn = connector_for(sandbox_origin, attempts)
    first = store.records(VENDOR, "Opportunity").order_by("id").first()
    assert conn.read("Opportunity", first.record_id)["Name"] == first.data["Name"]
    bearer.revoke_all(VENDOR)  # every session issued so far is now expired
    assert conn.read("Opportunity", first.record_id)["Id"] == first.record_id
    assert [a.status_code for a in attempts] == [200, 200, 401, 200, 200]
    assert sum(a.url.endswith("/services/oauth2/token") for a in attempts) == 2
    secret = conn.credentials["client_secret"]
    assert not any(secret in a.request_excerpt + a.url + str(a.request_headers) for a in attempts)
    assert not any(conn._token.access_token in str(a.request_headers) for a in attempts)


def test_check_reads_limits_and_tracks_api_usage(salesforce):
    result = salesforce.test()
    assert result.ok, result.message
    used, maximum = salesforce.api_usage
    assert maximum == DAILY_MAX and used >= 1


# --- read and query --------------------------------------------------------------------------
def test_read_by_id_returns_salesforce_shape(salesforce):
    row = store.get_by_external_id(VENDOR, "Opportunity", "OPP-00001")
    record = salesforce.read("Opportunity", row.record_id)
    assert record["attributes"] == {
        "type": "Opportunity",
        "url": f"/services/data/v62.0/sobjects/Opportunity/{row.record_id}",
    }
    assert record["External_Id__c"] == "OPP-00001" and record["AccountId"].startswith("001")
    short = salesforce.read("Opportunity", row.record_id[:15])
    assert short["Id"] == row.record_id


def test_read_missing_record_is_permanent_not_found(salesforce):
    with pytest.raises(ConnectorError) as err:
        salesforce.read("Opportunity", make_id("Opportunity", 999_999))
    assert err.value.kind == "permanent" and err.value.status_code == 404 and err.value.vendor_code == "NOT_FOUND"
    with pytest.raises(ConnectorError) as err:
        salesforce.read("Opportunity", "0065g000000ZZZZAAA")  # bad checksum
    assert err.value.status_code == 400 and err.value.vendor_code == "MALFORMED_ID"


def test_query_follows_next_records_url_over_1000_records(salesforce, sandbox_origin):
    add_opportunities(1150)
    total = store.records(VENDOR, "Opportunity").count()
    attempts: list = []
    conn = connector_for(sandbox_origin, attempts)
    records = list(conn.iterate("Opportunity", page_size=400))
    assert len(records) == total > 1000 and len({r["Id"] for r in records}) == total
    pages = [a for a in attempts if "/query" in a.url]
    assert len(pages) == -(-total // 400) and "/query/01g" in pages[-1].url
    stamps = [r["SystemModstamp"] for r in records]
    assert stamps == sorted(stamps)


def test_poll_since_watermark_returns_only_newer_changes(salesforce):
    first = salesforce.query("Opportunity", page_size=2000)
    middle = sorted(r["SystemModstamp"] for r in first.records)[len(first.records) // 2]
    page = salesforce.query("Opportunity", since=middle)
    assert page.records and all(r["SystemModstamp"][:19] >= middle[:19] for r in page.records)
    assert page.watermark == max(r["SystemModstamp"] for r in page.records)
    created = salesforce.create("Opportunity", opportunity(Name="Fresh change"))
    newer = salesforce.query("Opportunity", since=page.watermark)
    assert created.remote_id in [r["Id"] for r in newer.records]


def test_soql_filters_and_invalid_field(salesforce):
    won = salesforce.soql("SELECT Id, Name, Amount FROM Opportunity WHERE IsWon = true AND Amount > 100000 "
                          "ORDER BY Amount DESC LIMIT 5")  # fmt: skip
    assert won and len(won) <= 5 and all(r["Amount"] > 100000 for r in won)
    assert [r["Amount"] for r in won] == sorted((r["Amount"] for r in won), reverse=True)
    with pytest.raises(ConnectorError) as err:
        salesforce.soql("SELECT Id, Shoe_Size__c FROM Opportunity")
    assert err.value.vendor_code == "INVALID_FIELD" and "No such column 'Shoe_Size__c'" in err.value.message


# --- writes ----------------------------------------------------------------------------------
def test_create_then_update(salesforce):
    account = store.get_by_external_id(VENDOR, "Account", "C-10001")
    result = salesforce.create("Opportunity", opportunity(AccountId=account.record_id, Amount=125000))
    assert result.created and result.status_code == 201 and result.remote_id.startswith("006")
    salesforce.update("Opportunity", result.remote_id, {"StageName": "Closed Won"})
    stored = store.get(VENDOR, "Opportunity", result.remote_id).data
    assert stored["IsWon"] is True and stored["Amount"] == 125000 and stored["AccountId"] == account.record_id


def test_upsert_twice_by_external_id_gives_one_record(salesforce):
    first = salesforce.upsert("Opportunity", "External_Id__c", "SB-9001", opportunity(Amount=50000))
    second = salesforce.upsert("Opportunity", "External_Id__c", "SB-9001", opportunity(Amount=75000))
    assert first.status_code == 201 and second.status_code == 200
    rows = store.records(VENDOR, "Opportunity").filter(external_id="SB-9001")
    assert assert_upserted_once(first, second, rows).data["Amount"] == 75000
    logged = SandboxRequest.objects.filter(vendor=VENDOR, method="PATCH", external_id="External_Id__c=SB-9001")
    assert logged.count() == 2
    assert salesforce.find_by_external_ref("Opportunity", "External_Id__c", "SB-9001").remote_id == first.remote_id
    assert salesforce.find_by_external_ref("Opportunity", "External_Id__c", "SB-0000") is None


def test_upsert_matching_several_records_is_300_and_writes_nothing(salesforce):
    for n in (1, 2):
        salesforce.create("Opportunity", opportunity(Name=f"Dup {n}", Legacy_Id__c="L-1"))
    with pytest.raises(ConnectorError) as err:
        salesforce.upsert("Opportunity", "Legacy_Id__c", "L-1", {"Amount": 1})
    assert err.value.status_code == 300 and err.value.kind == "permanent"
    assert not store.records(VENDOR, "Opportunity").filter(data__Amount=1).exists()


def test_upsert_on_a_field_that_is_not_an_external_id_is_404(salesforce):
    with pytest.raises(ConnectorError) as err:
        salesforce.upsert("Opportunity", "Name", "Anything", {"Amount": 1})
    assert err.value.status_code == 404 and "Provided external ID field does not exist" in err.value.message


# --- throttling -------------------------------------------------------------------------------
def test_daily_allocation_exhausted_is_403_request_limit_exceeded(salesforce):
    set_api_usage(DAILY_MAX)
    error = refusal(salesforce.soql, "SELECT Id FROM Account")
    assert_transient(error, status=403, retry_after=DAILY_LIMIT_RETRY_SECONDS, vendor_code="REQUEST_LIMIT_EXCEEDED")
    assert "TotalRequests Limit exceeded" in error.message


def test_sandbox_rate_limit_answers_like_salesforce(salesforce):
    limit_sandbox(VENDOR, 1, 3600)
    salesforce.soql("SELECT Id FROM Account LIMIT 1")  # uses the window (the token service is not counted)
    error = refusal(salesforce.soql, "SELECT Id FROM Account LIMIT 1")
    assert_transient(error, status=403, retry_after=DAILY_LIMIT_RETRY_SECONDS)


def test_concurrent_long_requests_limit_is_transient_with_short_retry(salesforce):
    SandboxFault.objects.create(vendor=VENDOR, kind="status", status_code=403,
                                body="ConcurrentPerOrgLongTxn Limit exceeded.")  # fmt: skip
    error = refusal(salesforce.read, "Opportunity", store.records(VENDOR, "Opportunity").first().record_id)
    assert_transient(error, retry_after=CONCURRENT_LIMIT_RETRY_SECONDS)


def test_maintenance_503_is_transient_with_retry_after(salesforce):
    SandboxFault.objects.create(vendor=VENDOR, kind="maintenance", retry_after=120)
    assert_transient(refusal(salesforce.soql, "SELECT Id FROM Account"), status=503, retry_after=120)


# --- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("record", "code", "text"),
    [
        ({"Name": "No close date", "StageName": "Prospecting"}, "REQUIRED_FIELD_MISSING",
         "Required fields are missing: [CloseDate]"),
        (opportunity(StageName="Won-ish"), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
         "bad value for restricted picklist field: Won-ish"),
        (opportunity(Shoe_Size__c=42), "INVALID_FIELD", "No such column 'Shoe_Size__c' on sobject of type Opportunity"),
        (opportunity(Amount="lots"), "JSON_PARSER_ERROR", "Cannot deserialize instance of currency"),
        (opportunity(IsWon=True), "INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: IsWon"),
        (opportunity(AccountId="001000000000000AAA"), "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"),
    ],
)  # fmt: skip
def test_validation_errors_are_permanent_with_salesforce_message(salesforce, record, code, text):
    before = store.records(VENDOR, "Opportunity").count()
    with pytest.raises(ConnectorError) as err:
        salesforce.create("Opportunity", record)
    assert err.value.kind == "permanent" and err.value.status_code == 400
    assert err.value.vendor_code == code and text in err.value.message
    assert store.records(VENDOR, "Opportunity").count() == before


def test_duplicate_external_id_on_create_is_duplicate_value(salesforce):
    with pytest.raises(ConnectorError) as err:
        salesforce.create("Opportunity", opportunity(External_Id__c="OPP-00001"))
    assert err.value.vendor_code == "DUPLICATE_VALUE" and "duplicates value on record with id" in err.value.message


# --- the sandbox's own refusals; the demo connection -------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "sobjects/Opportunity", b"[1, 2]"),
        ("POST", "sobjects/Opportunity", b"{not json"),
        ("PATCH", "sobjects/Opportunity/External_Id__c/X-1", b'"text"'),
        ("POST", "sobjects/Nope__c", b"{}"),
        ("GET", "query?q=SELECT+Name+FROM+Opportunity+WHERE+Name+%3E+5", b""),
        ("GET", "query?q=DELETE+FROM+Opportunity", b""),
        ("GET", "query/01gNOPE-2000", b""),
        ("GET", "sobjects/Opportunity/updated/?start=yesterday", b""),
    ],
)
def test_malformed_requests_get_a_salesforce_4xx_never_a_500(salesforce, method, path, body):
    assert_malformed_is_4xx(salesforce, method, path, body)


def test_demo_connection_works_out_of_the_box(sandbox_origin):
    conn = demo_connector(VENDOR, seed)
    # The demo flow "opportunity won -> project" waits for this change, read by SOQL polling.
    since = conn.read("Opportunity", store.records(VENDOR, "Opportunity").order_by("id").first().record_id)
    opp = store.records(VENDOR, "Opportunity").exclude(data__StageName="Closed Won").order_by("id").first()
    conn.update("Opportunity", opp.record_id, {"StageName": "Closed Won"})
    won = [c for c in conn.change_feed(since["SystemModstamp"]).changes if c.type == "opportunity.won"]
    assert [c.payload["Id"] for c in won if c.payload["Id"] == opp.record_id] == [opp.record_id]
    assert won[-1].payload["Name"] == opp.data["Name"]


def test_dropped_answer_after_upsert_is_ambiguous_and_the_retry_updates(salesforce):
    SandboxFault.objects.create(vendor=VENDOR, kind="drop_after_commit", writes_only=True)
    with pytest.raises(ConnectorError) as err:
        salesforce.upsert("Opportunity", "External_Id__c", "SB-DROP", opportunity(Amount=10))
    assert err.value.kind == "transient" and err.value.ambiguous
    retry = salesforce.upsert("Opportunity", "External_Id__c", "SB-DROP", opportunity(Amount=10))
    assert not retry.created and store.records(VENDOR, "Opportunity").filter(external_id="SB-DROP").count() == 1
