"""Bearer tokens the OAuth-style sandboxes (Workday, NetSuite, Dynamics) issue and check.

Tokens are self-contained (claims + HMAC), so web processes agree without shared state.
`revoke_all(vendor)` makes every token issued so far invalid — how tests and demos
simulate an expired session, which a connector must survive by fetching a new token once.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from integrations.sandboxes.credentials import sandbox_secret
from integrations.sandboxes.models import SandboxRecord

_AUTH_OBJECT = "_auth"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(vendor: str, payload: str) -> str:
    key = sandbox_secret(vendor, "token-signing").encode()
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def issue(vendor: str, subject: str, lifetime: int = 3600) -> tuple[str, int]:
    now = time.time()
    claims = {"v": vendor, "s": subject, "iat": now, "exp": int(now) + lifetime}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{payload}.{_sign(vendor, payload)}", lifetime


def _revoked_before(vendor: str) -> float:
    row = SandboxRecord.objects.filter(vendor=vendor, object_type=_AUTH_OBJECT, record_id="revoked").first()
    return float(row.data.get("before", 0)) if row else 0.0


def verify(vendor: str, token: str) -> str | None:
    """The token's subject, or None when it is forged, expired or revoked."""
    payload, _, signature = (token or "").partition(".")
    if not payload or not hmac.compare_digest(signature.encode(), _sign(vendor, payload).encode()):
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    if claims.get("v") != vendor or claims.get("exp", 0) < time.time():
        return None
    if claims.get("iat", 0) <= _revoked_before(vendor):
        return None
    return str(claims.get("s"))


def bearer_from(request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def revoke_all(vendor: str) -> None:
    SandboxRecord.objects.update_or_create(
        vendor=vendor, object_type=_AUTH_OBJECT, record_id="revoked", defaults={"data": {"before": time.time()}}
    )


def token_endpoint(view):
    """A vendor's token endpoint: its own service (Entra, a tenant's OAuth server), so the
    data API's injected faults and rate limit do not apply; POST only."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.SWITCHBOARD_SANDBOXES_ENABLED:
            raise Http404("Sandboxes are disabled.")
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        return view(request, *args, **kwargs)

    return csrf_exempt(login_not_required(wrapped))
