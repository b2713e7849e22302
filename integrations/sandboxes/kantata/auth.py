"""Kantata auth for the sandbox: OAuth bearer tokens that do not expire (the
authorization-code exchange at /oauth/token, or the install's static token), Kantata's
`{"errors": [{"type", "message"}]}` bodies, a bare 429 when throttled."""

from __future__ import annotations

import hmac
import uuid

from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import bearer
from integrations.sandboxes.credentials import sandbox_credentials, sandbox_secret
from integrations.sandboxes.framework import VendorHooks
from integrations.sandboxes.kantata import VENDOR

NEVER = 10 * 365 * 24 * 3600  # Kantata tokens do not expire; revocation is how they end
TYPES = {400: "system", 401: "oauth", 403: "authorization", 404: "not_found", 409: "validation",
         422: "validation", 429: "rate_limit", 500: "system", 503: "system"}  # fmt: skip


def k_error(status: int, message: str, kind: str | None = None, field: str | None = None) -> JsonResponse:
    error = {"type": kind or TYPES.get(status, "system"), **({"field": field} if field else {}), "message": message}
    return JsonResponse({"errors": [error]}, status=status)


def authorization_code() -> str:
    """The code the sandbox's consent screen would hand out (demo and tests)."""
    return sandbox_secret(VENDOR, "authorization_code")


def issue_token(request: HttpRequest) -> HttpResponse:
    form, creds = request.POST, sandbox_credentials(VENDOR)

    def refuse(error: str, description: str, status: int = 401) -> JsonResponse:
        return JsonResponse({"error": error, "error_description": description}, status=status)

    if form.get("grant_type") != "authorization_code":
        return refuse("unsupported_grant_type", "The authorization grant type is not supported.", 400)
    if form.get("client_id") != creds["client_id"] or not hmac.compare_digest(
        form.get("client_secret", "").encode(), creds["client_secret"].encode()
    ):
        return refuse("invalid_client", "Client authentication failed due to unknown client.")
    if not hmac.compare_digest(form.get("code", "").encode(), authorization_code().encode()):
        return refuse("invalid_grant", "The provided authorization grant is invalid, expired or revoked.", 400)
    token, _ = bearer.issue(VENDOR, "oauth", NEVER)
    return JsonResponse({"access_token": token, "token_type": "bearer"})


class KantataHooks(VendorHooks):
    vendor = VENDOR

    def error_response(self, status: int, message: str, code: str | None = None) -> HttpResponse:
        return k_error(status, message, code)

    def throttle_response(self, retry_after: int) -> HttpResponse:
        # Kantata documents no Retry-After or rate-limit headers: "retry after a small delay".
        return k_error(429, "Too many requests. Please retry after a small delay.", "rate_limit")

    def maintenance_response(self, retry_after: int) -> HttpResponse:
        response = k_error(503, "Kantata OX is down for scheduled maintenance.", "system")
        response["Retry-After"] = str(retry_after)
        return response

    def authenticate(self, request: HttpRequest) -> HttpResponse | None:
        token = bearer.bearer_from(request)
        static = sandbox_credentials(VENDOR)["access_token"]
        if token and (hmac.compare_digest(token.encode(), static.encode()) or bearer.verify(VENDOR, token)):
            return None
        return k_error(401, "Invalid OAuth 2 Request: the access token is invalid or has been revoked.", "oauth")

    def decorate(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response["X-Request-Id"] = request.headers.get("X-Request-Id") or str(uuid.uuid4())
        return response


HOOKS = KantataHooks()
