"""Sandbox credentials: deterministic per install, derived from SECRET_KEY with HMAC, so
the sandboxes and the demo connections agree without any secret written in the code.

`sandbox_credentials(vendor)` gives the usual names; a vendor needing another value asks
`sandbox_secret(vendor, name)`. The demo connection for a vendor takes the entries its
connector declares in `auth_fields` (secrets) and `config_fields` (e.g. client_id).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings

STANDARD_NAMES = (
    "client_id",
    "client_secret",
    "username",
    "password",
    "api_key",
    "access_token",
    "refresh_token",
    "webhook_secret",
    "consumer_key",
    "consumer_secret",
    "token_id",
    "token_secret",
)
# Non-secret identifiers read better as short words than as random strings.
_PLAIN = {
    "client_id": "switchboard-{vendor}",
    "username": "switchboard@{vendor}.sandbox",
    "consumer_key": "sb-{vendor}",
}


def sandbox_secret(vendor: str, name: str, length: int = 32) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"sandbox:{vendor}:{name}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


def sandbox_credentials(vendor: str) -> dict[str, str]:
    creds = {name: sandbox_secret(vendor, name) for name in STANDARD_NAMES}
    creds.update({name: pattern.format(vendor=vendor) for name, pattern in _PLAIN.items()})
    # Standard Webhooks style secret (whsec_ + base64 of 24+ bytes).
    raw = hmac.new(settings.SECRET_KEY.encode(), f"sandbox:{vendor}:whsec".encode(), hashlib.sha256).digest()
    creds["webhook_secret"] = "whsec_" + base64.b64encode(raw).decode()
    return creds


def admin_token() -> str:
    """The token for `/sandbox/<vendor>/_admin/` (header `X-Sandbox-Admin-Token`)."""
    return sandbox_secret("_admin", "token", 40)
