"""HubSpot: the connector against its sandbox over real HTTP (live_server), and the
signed deal-stage webhook arriving at /hooks/<connection>/."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from integrations.connectors.errors import ConnectorError, WebhookRejected
from integrations.connectors.hubspot import DAILY_RETRY_SECONDS, HubSpotConnector, signature_v3
from integrations.events.models import Event
from integrations.sandboxes import bearer
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.framework import setting_for
from integrations.sandboxes.hubspot import VENDOR
from integrations.sandboxes.hubspot.seed import add_deals, seed
from integrations.sandboxes.hubspot.webhooks import sign
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


def connector_for(origin: str, attempts: list | None = None, *, oauth: bool = False, **secrets) -> HubSpotConnector:
    creds = sandbox_credentials(VENDOR)
    if oauth:
        credentials = {"client_secret": creds["client_secret"], "refresh_token": creds["refresh_token"]}
    else:
        credentials = {"access_token": creds["access_token"], "client_secret": creds["client_secret"]}
    connection = make_connection(VENDOR, f"{origin}/sandbox/{VENDOR}", {"client_id": creds["client_id"]},
                                 {**credentials, **secrets})  # fmt: skip
    return HubSpotConnector(connection, on_attempt=attempts.append if attempts is not None else None)


@pytest.fixture
def hubspot(sandbox_origin):
    seed("test")
    return connector_for(sandbox_origin)


def deal(**props) -> dict:
    return {"dealname": "Globex - Data Platform", "dealstage": "qualifiedtobuy", "amount": 90000, **props}


# --- auth ---------------------------------------------------------------------------------------
def test_bad_private_app_token_is_permanent_with_hubspot_message(sandbox_origin):
    conn = connector_for(sandbox_origin, access_token="pat-na1-not-a-token")
    with pytest.raises(ConnectorError) as err:
        conn.read("deals", "18290000001")
    assert err.value.kind == "permanent" and err.value.status_code == 401
    assert err.value.vendor_code == "INVALID_AUTHENTICATION"
    assert "Authentication credentials not found" in err.value.message
    assert not conn.test().ok


def test_bad_refresh_token_is_refused_with_hubspot_message(sandbox_origin):
    conn = connector_for(sandbox_origin, oauth=True, refresh_token="not-a-refresh-token")
    with pytest.raises(ConnectorError) as err:
        conn.check()
    assert err.value.kind == "permanent" and "missing or unknown refresh token" in err.value.message


def test_expired_oauth_token_is_refreshed_once(hubspot, sandbox_origin):
    attempts: list = []
    conn = connector_for(sandbox_origin, attempts, oauth=True)
    assert conn.read("deals", "18290000001")["id"] == "18290000001"
    bearer.revoke_all(VENDOR)
    assert conn.read("deals", "18290000002")["id"] == "18290000002"
    assert [a.status_code for a in attempts] == [200, 200, 401, 200, 200]
    assert sum(a.url.endswith("/oauth/v1/token") for a in attempts) == 2
    expired = next(a for a in attempts if a.status_code == 401)
    assert "EXPIRED_AUTHENTICATION" in expired.response_excerpt
    refresh = conn.credentials["refresh_token"]
    assert not any(refresh in a.request_excerpt + a.response_excerpt + a.url for a in attempts)


# --- read and query --------------------------------------------------------------------------------
def test_read_by_id_and_by_unique_property(hubspot):
    record = hubspot.read("deals", "18290000001")
    assert record["properties"]["external_id"] == "OPP-00001" and record["properties"]["hs_object_id"] == "18290000001"
    assert isinstance(record["properties"]["amount"], str) and record["archived"] is False
    company = store.get_by_external_id(VENDOR, "companies", "C-10001").record_id
    assert record["associations"]["companies"]["results"] == [{"id": company, "type": "deal_to_company"}]
    found = hubspot.find_by_external_ref("companies", "erp_customer_id", "C-10001")
    assert found.remote_id == store.get_by_external_id(VENDOR, "companies", "C-10001").record_id
    assert hubspot.find_by_external_ref("companies", "erp_customer_id", "C-99999") is None


def test_read_missing_is_permanent_object_not_found(hubspot):
    with pytest.raises(ConnectorError) as err:
        hubspot.read("deals", "1")
    assert err.value.status_code == 404 and err.value.vendor_code == "OBJECT_NOT_FOUND"


def test_list_follows_paging_next_after_over_1000_deals(hubspot, sandbox_origin):
    add_deals(1100)
    total = store.records(VENDOR, "deals").count()
    attempts: list = []
    conn = connector_for(sandbox_origin, attempts)
    records = list(conn.iterate("deals", page_size=500))  # HubSpot caps list pages at 100
    assert len(records) == total > 1000 and len({r["id"] for r in records}) == total
    pages = [a for a in attempts if "/crm/v3/objects/deals" in a.url]
    assert len(pages) == -(-total // 100) and "after=" in pages[-1].url and "limit=100" in pages[0].url


def test_poll_since_watermark_uses_search(hubspot, settings):
    settings.SWITCHBOARD_SANDBOX_HUBSPOT_SEARCH_LAG = 0  # the indexing delay: test_hubspot_polling.py
    everything = hubspot.query("deals", page_size=100)
    stamps = sorted(r["properties"]["hs_lastmodifieddate"] for r in everything.records)
    middle = stamps[len(stamps) // 2]
    page = hubspot.query("deals", since=middle)
    modified = [r["properties"]["hs_lastmodifieddate"] for r in page.records]
    assert modified and all(m >= middle for m in modified) and modified == sorted(modified)
    assert page.watermark == modified[-1]
    changed = hubspot.update("deals", "18290000001", {"amount": 1})
    newer = hubspot.query("deals", since=page.watermark)
    assert changed.remote_id in [r["id"] for r in newer.records]


# --- writes ------------------------------------------------------------------------------------------
def test_create_with_association(hubspot):
    company = store.get_by_external_id(VENDOR, "companies", "C-10002")
    result = hubspot.create("deals", {"properties": deal(), "associations": [
        {"to": {"id": company.record_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}]}
    ]})  # fmt: skip
    assert result.created and result.status_code == 201
    row = store.get(VENDOR, "deals", result.remote_id)
    assert row.data["properties"]["amount"] == "90000" and row.data["associations"] == {
        "companies": [company.record_id]
    }


def test_upsert_twice_with_id_property_gives_one_record(hubspot):
    first = hubspot.upsert("deals", "external_id", "SB-7001", deal(amount=100))
    second = hubspot.upsert("deals", "external_id", "SB-7001", deal(amount=200, dealstage="closedwon"))
    rows = store.records(VENDOR, "deals").filter(external_id="SB-7001")
    assert assert_upserted_once(first, second, rows).data["properties"]["amount"] == "200"
    assert (
        SandboxRequest.objects.filter(vendor=VENDOR, path__endswith="/batch/upsert", external_id="SB-7001").count() == 2
    )


def test_create_duplicate_unique_value_is_409_conflict(hubspot):
    with pytest.raises(ConnectorError) as err:
        hubspot.create("deals", deal(external_id="OPP-00001"))
    assert (
        err.value.status_code == 409
        and err.value.kind == "permanent"
        and "Existing ID: 18290000001" in err.value.message
    )


# --- throttling ---------------------------------------------------------------------------------------
def test_ten_secondly_limit_is_429_with_rate_headers(hubspot):
    limit_sandbox(VENDOR, 1, 10)
    hubspot.read("deals", "18290000001")
    assert hubspot.rate_limit["x-hubspot-ratelimit-max"] == "1"
    error = refusal(hubspot.read, "deals", "18290000001")
    assert_transient(error, status=429, retry_after=10.0, vendor_code="TEN_SECONDLY_ROLLING")
    assert "ten_secondly_rolling" in error.message


@pytest.mark.parametrize(
    ("message", "policy", "retry_after"),
    [("You have reached your daily limit.", "DAILY", DAILY_RETRY_SECONDS),
     ("You have reached your secondly limit.", "SECONDLY", 1.0)],
)  # fmt: skip
def test_daily_and_secondly_limits_map_to_their_windows(hubspot, message, policy, retry_after):
    SandboxFault.objects.create(vendor=VENDOR, kind="status", status_code=429, body=message)
    assert_transient(refusal(hubspot.read, "deals", "18290000001"), retry_after=retry_after, vendor_code=policy)


def test_unavailable_503_is_transient_with_retry_after(hubspot):
    SandboxFault.objects.create(vendor=VENDOR, kind="maintenance", retry_after=45)
    assert_transient(refusal(hubspot.create, "deals", deal()), status=503, retry_after=45)


# --- validation --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("props", "code", "text"),
    [
        (deal(dealstage="won-ish"), "INVALID_OPTION", "won-ish was not one of the allowed options"),
        (deal(shoe_size="42"), "PROPERTY_DOESNT_EXIST", 'Property "shoe_size" does not exist'),
        (deal(amount="lots"), "INVALID_DECIMAL", "lots was not a valid number"),
        ({"amount": "5"}, "REQUIRED", 'Property "dealname" is required'),
    ],
)
def test_validation_errors_are_permanent_with_hubspot_message(hubspot, props, code, text):
    before = store.records(VENDOR, "deals").count()
    with pytest.raises(ConnectorError) as err:
        hubspot.create("deals", props)
    assert err.value.kind == "permanent" and err.value.status_code == 400
    assert err.value.vendor_code == "VALIDATION_ERROR" and text in err.value.message and code in err.value.message
    assert store.records(VENDOR, "deals").count() == before


def test_batch_upsert_of_only_bad_inputs_is_400_and_writes_nothing(hubspot):
    body = {"inputs": [{"idProperty": "external_id", "id": "SB-2", "properties": deal(dealstage="nope")}]}
    with pytest.raises(ConnectorError) as err:
        hubspot.request("POST", "crm/v3/objects/deals/batch/upsert", json=body)
    assert err.value.status_code == 400 and "INVALID_OPTION" in err.value.message
    assert not store.records(VENDOR, "deals").filter(external_id="SB-2").exists()
    with pytest.raises(ConnectorError) as err:
        hubspot.upsert("deals", "dealname", "Anything", deal())
    assert "not a unique-value property" in err.value.message


# --- webhooks ----------------------------------------------------------------------------------------
@pytest.fixture
def webhook_target(hubspot, sandbox_origin, settings):
    settings.SWITCHBOARD_SANDBOX_WEBHOOKS_SYNC = True
    cfg = setting_for(VENDOR)
    cfg.webhook_target = f"{sandbox_origin}/hooks/{hubspot.connection.name}/"
    cfg.save()
    return cfg.webhook_target


def test_deal_stage_change_arrives_signed_and_is_stored(hubspot, webhook_target):
    hubspot.update("deals", "18290000003", {"dealstage": "closedwon"})
    event = Event.objects.get(source=hubspot.connection.name)
    assert event.type == "deal.propertyChange" and event.connection == hubspot.connection
    assert event.payload["objectId"] == 18290000003 and event.payload["propertyValue"] == "closedwon"
    hubspot.update("deals", "18290000003", {"amount": 5})  # not a stage change: no webhook
    assert Event.objects.filter(source=hubspot.connection.name).count() == 1


def _post(target: str, body: bytes, headers: dict) -> httpx.Response:
    return httpx.post(target, content=body, headers={"Content-Type": "application/json", **headers})


def test_forged_or_stale_webhooks_are_rejected_and_nothing_stored(hubspot, webhook_target):
    secret = sandbox_credentials(VENDOR)["client_secret"]
    body = json.dumps([{"eventId": 99, "subscriptionType": "deal.propertyChange", "objectId": 1,
                        "propertyName": "dealstage", "propertyValue": "closedwon"}]).encode()  # fmt: skip
    now = str(int(time.time() * 1000))
    forged = sign("not-the-app-secret", "POST", webhook_target, body, now)
    response = _post(webhook_target, body, forged)
    assert response.status_code == 401, response.text
    stale_stamp = str(int((time.time() - 6 * 60) * 1000))
    assert _post(webhook_target, body, sign(secret, "POST", webhook_target, body, stale_stamp)).status_code == 401
    tampered = sign(secret, "POST", webhook_target, body, now)
    assert _post(webhook_target, body.replace(b"closedwon", b"closedlost"), tampered).status_code == 401
    assert _post(webhook_target, body, {}).status_code == 401
    assert not Event.objects.exists()
    future_stamp = str(int((time.time() + 6 * 60) * 1000))
    assert _post(webhook_target, body, sign(secret, "POST", webhook_target, body, future_stamp)).status_code == 401
    assert not Event.objects.exists()
    genuine = sign(secret, "POST", webhook_target, body, now)
    assert _post(webhook_target, body, genuine).status_code == 202
    assert _post(webhook_target, body, genuine).status_code == 200  # HubSpot's retry of the same events
    assert Event.objects.filter(source=hubspot.connection.name, external_id="99").count() == 1


def test_verify_webhook_matches_hubspot_documented_uri_decoding(hubspot):
    secret = hubspot.credentials["client_secret"]
    body, stamp = b'[{"eventId":1}]', str(int(time.time() * 1000))
    url = "https://example.com/hooks/hubspot/?source=crm%3Adeals"
    # HubSpot decodes %3A before signing, so the signature is over the decoded URI.
    decoded = sign(secret, "POST", "https://example.com/hooks/hubspot/?source=crm:deals", body, stamp)
    hubspot.verify_webhook(decoded, body, url=url)
    assert signature_v3(secret, "POST", url, body, stamp) == decoded["X-HubSpot-Signature-v3"]
    with pytest.raises(WebhookRejected):
        hubspot.verify_webhook({**decoded, "X-HubSpot-Request-Timestamp": str(int(stamp) + 1)}, body, url=url)


# --- the sandbox's own refusals; the demo connection -------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "crm/v3/objects/deals", b"[1]"),
        ("POST", "crm/v3/objects/deals", b'{"properties": "dealname"}'),
        (
            "POST",
            "crm/v3/objects/deals",
            b'{"properties": {"dealname": "x", "dealstage": "closedwon"}, "associations": [1]}',
        ),
        ("POST", "crm/v3/objects/deals/batch/upsert", b'{"inputs": ["x"]}'),
        ("POST", "crm/v3/objects/deals/search", b'{"filterGroups": "x"}'),
        ("POST", "crm/v3/objects/deals/search", b'{"sorts": 5}'),
        ("POST", "crm/v3/objects/deals/search", b'{"filterGroups": [{"filters": [{"propertyName": "x"}]}]}'),
        ("GET", "crm/v3/objects/deals?after=abc", b""),
        ("GET", "crm/v3/objects/widgets", b""),
        ("PATCH", "crm/v3/objects/deals/18290000001", b"{oops"),
    ],
)
def test_malformed_requests_get_a_hubspot_4xx_never_a_500(hubspot, method, path, body):
    assert_malformed_is_4xx(hubspot, method, path, body)


def test_demo_connection_receives_verified_deal_webhooks(sandbox_origin, settings):
    settings.SWITCHBOARD_SANDBOX_WEBHOOKS_SYNC = True
    conn = demo_connector(VENDOR, seed)
    assert setting_for(VENDOR).webhook_target == f"{sandbox_origin}/hooks/{VENDOR}/"
    conn.update("deals", "18290000004", {"dealstage": "closedlost"})
    event = Event.objects.get(source=VENDOR)
    assert event.type == "deal.propertyChange" and event.payload["propertyValue"] == "closedlost"


def test_a_unique_value_taken_by_a_concurrent_request_is_409_and_writes_nothing(hubspot, monkeypatch):
    from integrations.sandboxes.hubspot import views

    monkeypatch.setattr(views, "_conflict", lambda otype, properties: None)  # as if both checked at once
    with pytest.raises(ConnectorError) as err:
        hubspot.create("deals", deal(dealname="Loser", external_id="OPP-00001"))
    assert err.value.status_code == 409 and err.value.vendor_code == "CONFLICT"
    assert not store.records(VENDOR, "deals").filter(data__properties__dealname="Loser").exists()
