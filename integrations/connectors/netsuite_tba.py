"""NetSuite Token-Based Authentication: an OAuth 1.0a `Authorization` header signed with
HMAC-SHA256, `realm` = the account ID.

NetSuite offers TBA beside OAuth 2.0 for REST web services:
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/chapter_1540809676.html
The signature is RFC 5849's (section 3.4: base string of method, base URI and the sorted,
percent-encoded query and oauth_* parameters; key = consumer secret & token secret), with
HMAC-SHA256 as the method: https://www.rfc-editor.org/rfc/rfc5849#section-3.4
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from urllib.parse import quote, urlsplit


def encode(text: str) -> str:
    """RFC 3986 percent-encoding: only unreserved characters stay as they are."""
    return quote(str(text), safe="-._~")


def base_uri(url: str) -> str:
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{scheme}://{host}{port}{parts.path}"


def base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    pairs = sorted((encode(k), encode(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    return "&".join([method.upper(), encode(base_uri(url)), encode(normalized)])


def signature(base: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{encode(consumer_secret)}&{encode(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()


def realm_of(account_id: str) -> str:
    """The account ID as NetSuite spells it in the realm: upper case, `_` before a sandbox suffix."""
    return account_id.strip().upper().replace("-", "_")


def authorization(
    method: str,
    url: str,
    query: Iterable[tuple[str, str]],
    *,
    account_id: str,
    consumer_key: str,
    consumer_secret: str,
    token_id: str,
    token_secret: str,
    now: int | None = None,
    nonce: str | None = None,
) -> str:
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_token": token_id,
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(int(now if now is not None else time.time())),
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_version": "1.0",
    }
    base = base_string(method, url, [*query, *oauth.items()])
    oauth["oauth_signature"] = signature(base, consumer_secret, token_secret)
    fields = [f'realm="{realm_of(account_id)}"'] + [f'{k}="{encode(v)}"' for k, v in oauth.items()]
    return "OAuth " + ", ".join(fields)
