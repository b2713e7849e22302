"""NetSuite's OAuth 2.0 client-credentials (M2M) token endpoint — the client assertion is a
PS256 JWT checked against the integration's certificate — and the REST auth check."""

from __future__ import annotations

import base64
import json
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import bearer
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.framework import VendorHooks
from integrations.sandboxes.netsuite import VENDOR, keys

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_TYPES = {
    400: ("section-15.5.1", "Bad Request"),
    401: ("section-15.5.2", "Unauthorized"),
    404: ("section-15.5.5", "Not Found"),
    405: ("section-15.5.6", "Method Not Allowed"),
    409: ("section-15.5.10", "Conflict"),
    429: ("section-4", "Too Many Requests"),
    503: ("section-15.6.4", "Service Unavailable"),
}


def error_body(status: int, detail: str, code: str, **extra) -> dict:
    section, title = _TYPES.get(status, ("section-15.6.1", "Internal Server Error"))
    rfc = "rfc6585.html" if status == 429 else "rfc9110.html"
    return {
        "type": f"https://www.rfc-editor.org/rfc/{rfc}#{section}",
        "title": title,
        "status": status,
        "o:errorDetails": [{"detail": detail, "o:errorCode": code, **extra}],
    }


class NetSuiteHooks(VendorHooks):
    vendor = VENDOR

    def error_response(self, status: int, message: str, code: str | None = None) -> HttpResponse:
        return JsonResponse(
            error_body(status, message, code or "UNEXPECTED_ERROR"),
            status=status,
            content_type="application/vnd.oracle.resource+json; type=error",
        )

    def throttle_response(self, retry_after: int) -> HttpResponse:
        # NetSuite signals its account-wide concurrency limit with a bare 429: no Retry-After.
        return self.error_response(
            429, "Concurrent request limit exceeded. Request blocked.", "CONCURRENCY_LIMIT_EXCEEDED"
        )

    def maintenance_response(self, retry_after: int) -> HttpResponse:
        response = self.error_response(503, "NetSuite is undergoing scheduled maintenance.", "SERVICE_UNAVAILABLE")
        response["Retry-After"] = str(retry_after)
        return response

    def authenticate(self, request: HttpRequest) -> HttpResponse | None:
        if bearer.verify(VENDOR, bearer.bearer_from(request)):
            return None
        response = self.error_response(
            401,
            "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
            "Setup > Users/Roles > User Management > View Login Audit Trail.",
            "INVALID_LOGIN",
        )
        response["WWW-Authenticate"] = 'Bearer realm="netsuite", error="invalid_token"'
        return response


HOOKS = NetSuiteHooks()


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _refuse(error: str, description: str) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=400)


def _check_assertion(assertion: str, audience: str) -> str | None:
    """None when the JWT is acceptable, else why not (NetSuite logs this in the audit trail)."""
    try:
        head_b64, claims_b64, sig_b64 = assertion.split(".")
        header, claims = json.loads(_b64decode(head_b64)), json.loads(_b64decode(claims_b64))
        signature = _b64decode(sig_b64)
    except ValueError:
        return "The client assertion is not a well-formed JWT."
    if header.get("alg") != "PS256" or header.get("kid") != keys.CERTIFICATE_ID:
        return "The JWT header must name alg PS256 and the kid of an active certificate."
    try:
        keys.private_key().public_key().verify(
            signature,
            f"{head_b64}.{claims_b64}".encode(),
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256(),
        )
    except InvalidSignature:
        return "The JWT signature does not match the certificate."
    now = time.time()
    if claims.get("iss") != sandbox_credentials(VENDOR)["client_id"]:
        return "The JWT issuer is not the client ID of an enabled integration record."
    if claims.get("aud") != audience:
        return f"The JWT audience must be {audience}."
    if not (claims.get("iat", now + 999) <= now + 60 and claims.get("exp", 0) > now):
        return "The JWT is expired or not yet valid."
    return None


@bearer.token_endpoint
def token(request: HttpRequest) -> HttpResponse:
    form = request.POST
    if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != ASSERTION_TYPE:
        return _refuse("unsupported_grant_type", "Use grant_type=client_credentials with a JWT client assertion.")
    problem = _check_assertion(form.get("client_assertion", ""), request.build_absolute_uri())
    if problem:
        return _refuse("invalid_grant", problem)
    access, lifetime = bearer.issue(VENDOR, sandbox_credentials(VENDOR)["client_id"], 3600)
    return JsonResponse({"access_token": access, "expires_in": str(lifetime), "token_type": "bearer"})
