"""NetSuite's OAuth 2.0 client-credentials (M2M) token endpoint — the client assertion is a
PS256 JWT checked against the integration's certificate, its `scope` claim must grant
`rest_webservices` — and the REST auth check: a bearer token, or a Token-Based
Authentication header (OAuth 1.0a, HMAC-SHA256, realm = the account ID) checked here.

The JWT (PS256, `kid` = certificate ID, `iss`, `scope`, `aud`, `iat`, `exp`):
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_0312092247.html
OAuth 2.0 for REST web services, RESTlets, SuiteAnalytics Connect (the scopes an
integration record grants): https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/chapter_157769826287.html
TBA beside OAuth 2.0 for REST: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/chapter_1540809676.html
Signature per https://www.rfc-editor.org/rfc/rfc5849#section-3.4 with HMAC-SHA256."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from urllib.parse import quote, unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import bearer
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.framework import VendorHooks
from integrations.sandboxes.netsuite import VENDOR, keys

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ACCOUNT_ID = "1234567_SB1"  # the sandbox account: the TBA realm
REST_SCOPE = "rest_webservices"
TBA_SKEW_SECONDS = 300
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
        if request.headers.get("Authorization", "")[:6].lower() == "oauth " and tba_problem(request) is None:
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

_PARAM = re.compile(r'(\w+)="([^"]*)"')


def _enc(text: str) -> str:
    return quote(text, safe="-._~")


def tba_problem(request: HttpRequest) -> str | None:
    """None when the TBA header is valid for this request, else why not."""
    params = {k: unquote(v) for k, v in _PARAM.findall(request.headers.get("Authorization", "")[6:])}
    creds = sandbox_credentials(VENDOR)
    if params.get("realm") != ACCOUNT_ID:
        return "The realm must be the account ID."
    if params.get("oauth_signature_method") != "HMAC-SHA256":
        return "Only HMAC-SHA256 signatures are accepted."
    if params.get("oauth_consumer_key") != creds["consumer_key"] or params.get("oauth_token") != creds["token_id"]:
        return "Unknown consumer key or token."
    try:
        stamp = int(params.get("oauth_timestamp", ""))
    except ValueError:
        return "Missing timestamp."
    if abs(time.time() - stamp) > TBA_SKEW_SECONDS or not params.get("oauth_nonce"):
        return "The timestamp is too far from the server's clock, or the nonce is missing."
    signed = [(k, v) for k, v in params.items() if k.startswith("oauth_") and k != "oauth_signature"]
    pairs = sorted((_enc(k), _enc(v)) for k, v in [*request.GET.items(), *signed])
    uri = request.build_absolute_uri(request.path)
    base = "&".join([request.method or "", _enc(uri), _enc("&".join(f"{k}={v}" for k, v in pairs))])
    key = f"{_enc(creds['consumer_secret'])}&{_enc(creds['token_secret'])}".encode()
    expected = base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, params.get("oauth_signature", "")):
        return "The signature does not match."
    return None


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
    scope = claims.get("scope")
    scopes = scope if isinstance(scope, list) else str(scope or "").replace(",", " ").split()
    if REST_SCOPE not in scopes:
        return f"The JWT scope claim must include {REST_SCOPE} for REST web services (it has {scopes or 'none'})."
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
