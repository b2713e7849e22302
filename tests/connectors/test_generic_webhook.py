"""Standard Webhooks verification for the generic inbound webhook connection."""

import time

import pytest

from integrations.connections.services import create_connection
from integrations.connectors.errors import WebhookRejected
from integrations.connectors.registry import get_connector
from integrations.connectors.webhooks import standard_signature, verify_standard_webhook

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"type":"invoice.paid","data":{"id":"INV-1042"}}'


def headers(secret=SECRET, body=BODY, ts=None, msg_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"):
    ts = str(int(time.time()) if ts is None else ts)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": standard_signature(secret, msg_id, ts, body),
    }


@pytest.fixture
def connector(db):
    conn = create_connection(
        "system:test",
        name="inbound",
        kind="generic_webhook",
        base_url="",
        credentials={"webhook_secret": SECRET, "previous_webhook_secret": "old-shared-secret-1234567890"},
    )
    return get_connector(conn)


def test_a_correctly_signed_webhook_passes(connector):
    connector.verify_webhook(headers(), BODY)
    # Header names arrive in any case from web servers.
    connector.verify_webhook({k.title(): v for k, v in headers().items()}, BODY)


def test_known_signature_vector():
    # The Standard Webhooks reference example (secret, id, timestamp, body → signature).
    sig = standard_signature(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: (headers(secret="whsec_" + "A" * 32), BODY), "signature does not match"),
        (lambda: (headers(), BODY + b" "), "signature does not match"),
        (lambda: (headers(ts=int(time.time()) - 360), BODY), "5-minute window"),
        (lambda: (headers(ts=int(time.time()) + 360), BODY), "5-minute window"),
        (lambda: ({k: v for k, v in headers().items() if k != "webhook-signature"}, BODY), "missing"),
        (lambda: ({k: v for k, v in headers().items() if k != "webhook-timestamp"}, BODY), "missing timestamp"),
        (lambda: ({**headers(), "webhook-signature": "v2,abc"}, BODY), "no v1 signature"),
    ],
    ids=["forged", "body-changed", "stale", "future", "no-signature", "no-timestamp", "wrong-version"],
)
def test_forged_stale_or_incomplete_webhooks_are_rejected(connector, make, reason):
    hdrs, body = make()
    with pytest.raises(WebhookRejected, match=reason):
        connector.verify_webhook(hdrs, body)


def test_previous_secret_still_accepted_during_rotation(connector):
    connector.verify_webhook(headers(secret="old-shared-secret-1234567890"), BODY)


def test_any_of_several_offered_signatures_may_match():
    good = headers()
    good["webhook-signature"] = "v1,bm90LWl0 " + good["webhook-signature"]
    assert verify_standard_webhook([SECRET], good, BODY) == good["webhook-id"]


def test_without_a_secret_nothing_is_accepted(db):
    conn = create_connection("system:test", name="nosecret", kind="generic_webhook", base_url="")
    with pytest.raises(WebhookRejected, match="no signing secret"):
        get_connector(conn).verify_webhook(headers(), BODY)


def test_end_to_end_through_the_hooks_endpoint(connector, client):
    from integrations.events.models import Event

    good = headers()
    response = client.post(
        "/hooks/inbound/",
        BODY,
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in good.items()},
    )
    assert response.status_code == 202
    assert Event.objects.filter(source="inbound").count() == 1
    forged = headers(secret="whsec_" + "B" * 32, msg_id="msg_other")
    response = client.post(
        "/hooks/inbound/",
        BODY,
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in forged.items()},
    )
    assert response.status_code == 401
    stale = headers(ts=int(time.time()) - 600, msg_id="msg_stale")
    response = client.post(
        "/hooks/inbound/",
        BODY,
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in stale.items()},
    )
    assert response.status_code == 401
    assert Event.objects.filter(source="inbound").count() == 1
