"""BambooHR webhooks: subscriptions made through `POST /api/v1/webhooks` (each with its own
one-time `privateKey`), and the signed deliveries sent when an employee changes.

Signature (BambooHR): `X-BambooHR-Signature` = hex HMAC-SHA256 with the private key over
the raw body followed by the `X-BambooHR-Timestamp` value (unix seconds). One event per POST,
payloads as in the OpenAPI document's `webhooks:` section; `employee.created` is followed by
`employee.updated`, as BambooHR's create-then-initialise does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.bamboohr import COMPANY_ID, VENDOR
from integrations.sandboxes.bamboohr.employees import FIELDS, BambooError
from integrations.sandboxes.framework_webhooks import emit_webhook

OBJECT = "webhook"
EVENTS = ("employee.created", "employee.updated", "employee.deleted")


def sign(private_key: str, body: bytes, timestamp: str) -> str:
    return hmac.new(private_key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def subscribe(body) -> dict:
    """Create a subscription; the answer is the only time `privateKey` is shown."""
    if not isinstance(body, dict):
        raise BambooError(400, "Invalid request body")
    issues = [f"{name} is required" for name in ("name", "url", "format") if not body.get(name)]
    if body.get("format") not in (None, "json", "form-encoded"):
        issues.append("format must be json or form-encoded")
    events = body.get("events") or []
    if any(e not in EVENTS for e in events):
        issues.append(f"events must be among {', '.join(EVENTS)} in this sandbox")
    monitor = body.get("monitorFields") or []
    if "employee.updated" in events and not monitor:
        issues.append("monitorFields is required for employee.updated")
    if any(f not in FIELDS for f in monitor):
        issues.append("monitorFields contains unknown fields")
    if issues:
        raise BambooError(400, json.dumps({"errors": [{"error": "Invalid request body", "issues": issues}]}))
    webhook_id = str(store.next_number(VENDOR, OBJECT, 0))
    data = {
        "id": webhook_id,
        "name": body["name"],
        "created": _stamp(),
        "lastSent": None,
        "monitorFields": monitor or None,
        "postFields": body.get("postFields") or {},
        "url": body["url"],
        "format": body["format"],
        "privateKey": secrets.token_hex(32),
        "includeCompanyDomain": bool(body.get("includeCompanyDomain")),
        "events": events,
    }
    store.create(VENDOR, OBJECT, webhook_id, data)
    return data


def deliver(event: str, employee_id: str, changed: list[str] | None = None) -> int:
    """Queue one signed delivery per matching subscription (sent after commit)."""
    sent = 0
    for hook in store.records(VENDOR, OBJECT).order_by("id"):
        cfg = hook.data
        if event not in cfg.get("events", []):
            continue
        data = {"companyId": COMPANY_ID, "employeeId": employee_id}
        if event == "employee.updated":
            monitored = [f for f in (changed or []) if f in (cfg.get("monitorFields") or [])]
            if not monitored:
                continue
            data["changedFields"] = monitored
        payload = {"type": event, "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "data": data}
        body = json.dumps(payload, separators=(",", ":")).encode()
        stamp = str(int(time.time()))
        headers = {"X-BambooHR-Timestamp": stamp, "X-BambooHR-Signature": sign(cfg["privateKey"], body, stamp)}
        if emit_webhook(VENDOR, payload, headers, target=cfg["url"], body=body):
            store.update(hook, {"lastSent": _stamp()})
            sent += 1
    return sent
