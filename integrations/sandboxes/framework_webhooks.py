"""Webhooks a sandbox sends to Switchboard when its records change, signed the way the
vendor signs them (the vendor computes the headers and passes them in).

The POST happens after the sandbox's transaction commits, in a background thread, so
the write that caused it is answered first — as a real vendor does. It goes through the
outbound HTTP module, so the target must be the sandbox origin or an allowed one.
"""

from __future__ import annotations

import json
import logging
import threading

from django.db import transaction

from integrations.connectors.errors import ConnectorError
from integrations.connectors.http import HttpClient
from integrations.sandboxes.framework import setting_for

logger = logging.getLogger("integrations.sandboxes.webhooks")


def target_for(vendor: str) -> str:
    return setting_for(vendor).webhook_target


def send_now(vendor: str, target: str, body: bytes, headers: dict[str, str]) -> int | None:
    """POST one webhook and return the status (None when it could not be delivered)."""
    try:
        with HttpClient(base_url=target, timeout=10.0) as client:
            response = client.request(
                "POST", target, content=body, headers={"Content-Type": "application/json", **headers}
            )
    except ConnectorError as exc:
        logger.warning("sandbox %s webhook to %s failed: %s", vendor, target, exc.message)
        return None
    if response.status_code >= 300:
        logger.warning("sandbox %s webhook to %s answered %s", vendor, target, response.status_code)
    return response.status_code


def emit_webhook(
    vendor: str,
    payload,
    headers: dict[str, str] | None = None,
    *,
    target: str | None = None,
    body: bytes | None = None,
    wait: bool = False,
) -> bool:
    """Send `payload` (JSON-serialisable, or raw `body`) to the vendor's webhook target
    after commit. Returns False when no target is configured. `wait=True` sends
    synchronously after commit (tests)."""
    target = target or target_for(vendor)
    if not target:
        return False
    data = body if body is not None else json.dumps(payload, separators=(",", ":")).encode()
    hdrs = dict(headers or {})

    def send() -> None:
        if wait:
            send_now(vendor, target, data, hdrs)
        else:
            threading.Thread(target=send_now, args=(vendor, target, data, hdrs), daemon=True).start()

    transaction.on_commit(send)
    return True
