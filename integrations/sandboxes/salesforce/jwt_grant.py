"""The JWT bearer grant as the Salesforce sandbox checks it: an RS256 assertion signed with
the key of the certificate uploaded to the connected app, iss = consumer key, sub = the
user's username, aud = the authorization server, exp at most 3 minutes ahead
(https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm&type=5).
The key pair is made once and kept in the sandbox store; tests and the demo read the
private half through `private_key_pem()`, as an admin keeps the key beside the certificate."""

from __future__ import annotations

import base64
import binascii
import json
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.db import transaction
from django.http import HttpRequest

from integrations.sandboxes.models import SandboxRecord
from integrations.sandboxes.salesforce import VENDOR

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_AHEAD_SECONDS = 180
GENERIC_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


def private_key_pem() -> str:
    """The connected app's key (made on first use, then the same for every process)."""
    with transaction.atomic():
        row = SandboxRecord.objects.select_for_update().filter(vendor=VENDOR, object_type="_jwt_key").first()
        if row is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()  # fmt: skip
            row = SandboxRecord.objects.create(vendor=VENDOR, object_type="_jwt_key", record_id="connected-app",
                                               data={"pem": pem})  # fmt: skip
    return row.data["pem"]


def audiences(request: HttpRequest) -> tuple[str, ...]:
    """Salesforce's generic login hosts, and the sandbox's imitation of one."""
    return (*GENERIC_AUDIENCES, request.build_absolute_uri("/sandbox/salesforce/login").rstrip("/"))


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def check(assertion: str, creds: dict[str, str], *, audiences: tuple[str, ...]) -> tuple[str, str] | None:
    """None when the assertion is good, else Salesforce's (error, error_description)."""
    try:
        head, body, signature = assertion.split(".")
        header, claims = json.loads(_unb64(head)), json.loads(_unb64(body))
        sig = _unb64(signature)
    except (ValueError, binascii.Error):
        return "invalid_grant", "invalid assertion"
    if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("alg") != "RS256":
        return "invalid_grant", "invalid assertion"
    public = serialization.load_pem_private_key(private_key_pem().encode(), password=None).public_key()
    try:
        public.verify(sig, f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]
    except InvalidSignature:
        return "invalid_grant", "invalid assertion"
    if claims.get("iss") != creds["client_id"]:
        return "invalid_client_id", "client identifier invalid"
    if claims.get("aud") not in audiences:
        return "invalid_grant", "audience is invalid"
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp < time.time() or exp > time.time() + MAX_AHEAD_SECONDS:
        return "invalid_grant", "expired authorization code"
    if claims.get("sub") != creds["username"]:
        return "invalid_grant", "user hasn't approved this consumer"
    return None
