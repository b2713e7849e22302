"""Inbound webhook verification: Standard Webhooks (https://www.standardwebhooks.com/)
and the small helpers vendor verifiers share (timestamp window, constant-time compare).

Standard Webhooks: headers `webhook-id`, `webhook-timestamp` (unix seconds) and
`webhook-signature: v1,<base64(HMAC-SHA256(secret, f"{id}.{timestamp}.{body}"))>`;
several space-separated signatures allow key rotation; secrets may be `whsec_<base64>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

from integrations.connectors.base import Connector, FieldSpec
from integrations.connectors.errors import ConnectorError, WebhookRejected

TOLERANCE_SECONDS = 300


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def check_timestamp(
    value: str | None, *, tolerance: int = TOLERANCE_SECONDS, now: float | None = None, milliseconds: bool = False
) -> int:
    """The timestamp as an int, or WebhookRejected when missing or outside ±tolerance."""
    if not value:
        raise WebhookRejected("missing timestamp header")
    try:
        stamp = int(value)
    except ValueError:
        raise WebhookRejected("timestamp is not an integer") from None
    seconds = stamp / 1000 if milliseconds else stamp
    if abs((now if now is not None else time.time()) - seconds) > tolerance:
        raise WebhookRejected("timestamp outside the 5-minute window")
    return stamp


def hmac_sha256(secret: bytes, message: bytes) -> bytes:
    return hmac.new(secret, message, hashlib.sha256).digest()


def matches_any(expected: bytes | str, candidates: Iterable[bytes | str]) -> bool:
    """Constant-time comparison against each candidate signature."""
    exp = expected.encode() if isinstance(expected, str) else expected
    return any(hmac.compare_digest(exp, c.encode() if isinstance(c, str) else c) for c in candidates)


def secret_bytes(secret: str) -> bytes:
    """`whsec_<base64>` secrets are base64 key material; anything else is used as UTF-8."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            raise WebhookRejected("the configured webhook secret is not valid whsec_ base64") from None
    return secret.encode()


def standard_signature(secret: str, msg_id: str, timestamp: str | int, body: bytes) -> str:
    """The `webhook-signature` value a sender computes (used by the sandboxes and tests)."""
    digest = hmac_sha256(secret_bytes(secret), f"{msg_id}.{timestamp}.".encode() + body)
    return "v1," + base64.b64encode(digest).decode()


def verify_standard_webhook(
    secrets: Iterable[str], headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> str:
    """Verify and return the webhook id; any of `secrets` (rotation) may have signed it."""
    h = lower_headers(headers)
    msg_id, stamp, signature = h.get("webhook-id"), h.get("webhook-timestamp"), h.get("webhook-signature")
    if not msg_id or not signature:
        raise WebhookRejected("missing webhook-id or webhook-signature header")
    check_timestamp(stamp, now=now)
    offered = [part.split(",", 1)[1] for part in signature.split() if part.startswith("v1,")]
    if not offered:
        raise WebhookRejected("no v1 signature offered")
    for secret in secrets:
        if secret and matches_any(standard_signature(secret, msg_id, stamp or "", body).split(",", 1)[1], offered):
            return msg_id
    raise WebhookRejected("signature does not match")


class GenericWebhookConnector(Connector):
    """Inbound only: any system that signs its webhooks the Standard Webhooks way."""

    kind = "generic_webhook"
    label = "Generic inbound webhook"
    auth_fields = (
        FieldSpec("webhook_secret", "secret", True, "Signing secret", help="whsec_… or any shared secret (≥ 24 bytes)"),
        FieldSpec(
            "previous_webhook_secret",
            "secret",
            False,
            "Previous secret",
            help="Still accepted while senders rotate to the new secret.",
        ),
    )
    config_fields = ()
    objects = {}
    inbound_only = True

    def check(self) -> None:
        # Nothing to call: a configured secret is all an inbound webhook needs.
        if not self.credentials.get("webhook_secret"):
            raise ConnectorError("No signing secret is configured.", kind="permanent")

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        secrets = [self.credentials.get("webhook_secret", ""), self.credentials.get("previous_webhook_secret", "")]
        if not any(secrets):
            raise WebhookRejected("no signing secret is configured for this connection")
        verify_standard_webhook(secrets, headers, body)
