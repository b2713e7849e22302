"""Webhooks the HubSpot sandbox sends when deals change, signed as HubSpot signs them:
`X-HubSpot-Signature-v3` = base64(HMAC-SHA256(app client secret, method + URI + body +
timestamp)) with `X-HubSpot-Request-Timestamp` in milliseconds, plus the v1 signature
(hex SHA-256 of secret + body) HubSpot still sends for older receivers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.framework_webhooks import emit_webhook, target_for
from integrations.sandboxes.hubspot import APP_ID, PORTAL_ID, VENDOR, records

SUBSCRIPTION_IDS = {"deal.creation": 4320, "deal.propertyChange": 4321}
BATCH_MAX = 100  # events in one webhook request


def app_secret() -> str:
    return sandbox_credentials(VENDOR)["client_secret"]


def sign(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> dict[str, str]:
    source = method.encode() + uri.encode() + body + timestamp.encode()
    v3 = base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()
    v1 = hashlib.sha256(secret.encode() + body).hexdigest()
    return {"X-HubSpot-Signature-v3": v3, "X-HubSpot-Request-Timestamp": timestamp,
            "X-HubSpot-Signature": v1, "X-HubSpot-Signature-Version": "v1"}  # fmt: skip


def event(subscription: str, object_id: str, **fields) -> dict:
    # Receivers deduplicate on eventId, so it must stay unique across processes, restarts
    # and sandbox resets: the time in ms, then a database sequence for events in the same ms.
    occurred = int(time.time() * 1000)
    event_id = occurred * 1000 + records.next_number("webhook_events") % 1000
    return {"eventId": event_id, "subscriptionId": SUBSCRIPTION_IDS[subscription], "portalId": PORTAL_ID,
            "appId": APP_ID, "occurredAt": occurred, "subscriptionType": subscription,
            "attemptNumber": 0, "objectId": int(object_id), "changeSource": "CRM", **fields}  # fmt: skip


def send(events: list[dict], *, wait: bool = False) -> bool:
    """POST the events to the configured target after commit, up to 100 in one request as
    HubSpot batches them ("Webhook payloads": a JSON array of up to 100 events,
    https://developers.hubspot.com/docs/api/webhooks); False when no target is set."""
    target = target_for(VENDOR)
    if not target or not events:
        return False
    for start in range(0, len(events), BATCH_MAX):
        body = json.dumps(events[start : start + BATCH_MAX], separators=(",", ":")).encode()
        headers = sign(app_secret(), "POST", target, body, str(int(time.time() * 1000)))
        emit_webhook(VENDOR, None, headers, target=target, body=body, wait=wait)
    return True


def deal_changed(deal_id: str, before: dict | None, after: dict) -> list[dict]:
    """The events HubSpot sends for one deal write (creation, dealstage change)."""
    if before is None:
        return [event("deal.creation", deal_id, changeFlag="CREATED")]
    if before.get("dealstage") != after.get("dealstage"):
        return [event("deal.propertyChange", deal_id, propertyName="dealstage",
                      propertyValue=after.get("dealstage", ""))]  # fmt: skip
    return []
