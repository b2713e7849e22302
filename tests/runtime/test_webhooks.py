"""POST /hooks/<connection>/: Standard Webhooks verification before anything is stored."""

import json
import time

import pytest

from integrations.connectors.webhooks import standard_signature
from integrations.events.models import Event
from integrations.runs.models import Run
from tests.runtime.conftest import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db

BODY = json.dumps({"type": "invoice.approved", "data": {"id": "INV-1", "amount": 5}}).encode()


def post(client, body=BODY, *, msg_id="msg_1", stamp=None, secret=WEBHOOK_SECRET, signature=None, connection="crm"):
    stamp = str(int(time.time()) if stamp is None else stamp)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": signature or standard_signature(secret, msg_id, stamp, body),
    }
    return client.post(
        f"/hooks/{connection}/",
        body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if v is not None},
    )


def test_a_signed_webhook_is_stored_and_starts_the_flow(client, invoice_flow):
    response = post(client)
    assert response.status_code == 202
    event = Event.objects.get()
    assert (event.source, event.type, event.external_id, event.payload) == (
        "crm",
        "invoice.approved",
        "msg_1",
        {"id": "INV-1", "amount": 5},
    )
    assert response.json() == {"event": event.pk, "runs": [Run.objects.get().pk], "duplicate": False}


def test_a_repeated_webhook_id_answers_200_and_starts_nothing(client, invoice_flow):
    first = post(client).json()
    again = post(client)
    assert again.status_code == 200 and again.json() == {**first, "duplicate": True}
    assert Event.objects.count() == 1 and Run.objects.count() == 1


@pytest.mark.parametrize("tamper", ["forged", "body", "stale", "future", "missing"])
def test_forged_or_stale_webhooks_are_refused_and_store_nothing(client, invoice_flow, tamper):
    now = int(time.time())
    if tamper == "forged":
        response = post(client, secret="whsec_" + "QUJD" * 8)
    elif tamper == "body":
        good = standard_signature(WEBHOOK_SECRET, "msg_1", str(now), BODY)
        response = post(client, BODY.replace(b"5", b"6"), stamp=now, signature=good)
    elif tamper == "stale":
        response = post(client, stamp=now - 6 * 60)
    elif tamper == "future":
        response = post(client, stamp=now + 6 * 60)
    else:
        response = client.post("/hooks/crm/", BODY, content_type="application/json")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert Event.objects.count() == 0 and Run.objects.count() == 0


def test_an_unknown_connection_is_404(client, invoice_flow):
    assert post(client, connection="nope").status_code == 404


def test_a_signed_body_that_is_not_json_is_a_400_naming_the_body(client, invoice_flow):
    response = post(client, b"not json")
    assert response.status_code == 400 and "body" in response.json()["errors"]
    assert Event.objects.count() == 0
