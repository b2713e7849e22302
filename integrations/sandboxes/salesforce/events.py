"""Change Data Capture-style events from the Salesforce sandbox.

Salesforce itself has no HMAC webhooks: changes leave an org through Change Data Capture
(Pub/Sub API or CometD) and an org-side relay forwards them. The sandbox plays org and
relay in one: each Opportunity or Account write becomes a CDC event (`ChangeEventHeader`
plus the changed fields and the enriched fields a relay is configured to add) POSTed to
the configured target, signed the Standard Webhooks way with the connection's secret.
"""

from __future__ import annotations

import json
import time
import uuid

from django.conf import settings

from integrations.connectors.webhooks import standard_signature
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.framework_webhooks import emit_webhook, target_for
from integrations.sandboxes.salesforce import API_VERSION, VENDOR
from integrations.sandboxes.salesforce.auth import USER_ID

# Fields every event carries besides the changed ones (CDC "enriched fields").
ENRICHED = {
    "Opportunity": ("Name", "AccountId", "StageName", "Amount", "CurrencyIsoCode", "CloseDate",
                    "Project_Start_Date__c", "Region__c", "External_Id__c"),
    "Account": ("Name", "ERP_Customer_Id__c", "BillingCountry"),
}  # fmt: skip
_IGNORED = ("LastModifiedDate", "SystemModstamp")


def change_event(sobject: str, before: dict | None, after: dict) -> dict | None:
    """The CDC event for one write, or None when nothing a subscriber sees changed."""
    if before is None:
        change_type, changed = "CREATE", [k for k, v in after.items() if v is not None and k not in _IGNORED]
    else:
        change_type = "UPDATE"
        changed = [k for k, v in after.items() if before.get(k) != v and k not in _IGNORED]
    if not changed:
        return None
    header = {
        "entityName": sobject,
        "recordIds": [after["Id"]],
        "changeType": change_type,
        "changeOrigin": f"com/salesforce/api/rest/{API_VERSION.lstrip('v')}",
        "transactionKey": str(uuid.uuid4()),
        "sequenceNumber": 1,
        "commitTimestamp": int(time.time() * 1000),
        "commitUser": USER_ID,
        "changedFields": sorted(changed),
    }
    fields = {k: after.get(k) for k in (*ENRICHED.get(sobject, ()), *changed)}
    return {"ChangeEventHeader": header, **fields}


def send(event: dict | None) -> bool:
    """POST one event after commit to the configured target; False when none is set."""
    target = target_for(VENDOR)
    if event is None or not target:
        return False
    body = json.dumps(event, separators=(",", ":")).encode()
    msg_id, stamp = f"msg_{event['ChangeEventHeader']['transactionKey']}", str(int(time.time()))
    secret = sandbox_credentials(VENDOR)["webhook_secret"]
    headers = {"webhook-id": msg_id, "webhook-timestamp": stamp,
               "webhook-signature": standard_signature(secret, msg_id, stamp, body)}  # fmt: skip
    wait = getattr(settings, "SWITCHBOARD_SANDBOX_WEBHOOKS_SYNC", False)
    return emit_webhook(VENDOR, None, headers, target=target, body=body, wait=wait)
