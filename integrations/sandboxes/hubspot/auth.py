"""HubSpot auth for the sandbox: private-app tokens (static) and OAuth access tokens from
`/oauth/v1/token` (refresh-token grant, 30 minutes), HubSpot's error bodies, its 429
body and `X-HubSpot-RateLimit-*` headers on every answer."""

from __future__ import annotations

import hmac
import time
import uuid

from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import bearer
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.framework import VendorHooks, setting_for
from integrations.sandboxes.hubspot import VENDOR
from integrations.sandboxes.models import SandboxCounter

OAUTH_SECONDS = 1800
DEFAULT_MAX, DEFAULT_INTERVAL_MS, DAILY = 190, 10_000, 1_000_000
CATEGORIES = {400: "VALIDATION_ERROR", 401: "INVALID_AUTHENTICATION", 403: "MISSING_SCOPES", 404: "OBJECT_NOT_FOUND",
              409: "CONFLICT", 415: "UNSUPPORTED_MEDIA_TYPE", 500: "INTERNAL_ERROR", 502: "BAD_GATEWAY",
              503: "SERVICE_UNAVAILABLE"}  # fmt: skip
NO_CREDENTIALS = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more "
    "details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


def hs_error(status: int, message: str, category: str | None = None, **extra) -> JsonResponse:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
            "category": category or CATEGORIES.get(status, "BAD_REQUEST"), **extra}  # fmt: skip
    return JsonResponse(body, status=status)


def issue_token(request: HttpRequest) -> HttpResponse:
    form, creds = request.POST, sandbox_credentials(VENDOR)

    def refuse(status: str, message: str) -> JsonResponse:
        return JsonResponse({"status": status, "message": message, "correlationId": str(uuid.uuid4())}, status=400)

    if form.get("grant_type") != "refresh_token":
        return refuse("BAD_GRANT_TYPE", "grant_type must be refresh_token or authorization_code")
    if form.get("client_id") != creds["client_id"]:
        return refuse("BAD_CLIENT_ID", "missing or unknown client id")
    if not hmac.compare_digest(form.get("client_secret", "").encode(), creds["client_secret"].encode()):
        return refuse("BAD_CLIENT_SECRET", "missing or invalid client secret")
    if not hmac.compare_digest(form.get("refresh_token", "").encode(), creds["refresh_token"].encode()):
        return refuse("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
    token, lifetime = bearer.issue(VENDOR, "oauth", OAUTH_SECONDS)
    return JsonResponse({"token_type": "bearer", "access_token": token, "refresh_token": creds["refresh_token"],
                         "expires_in": lifetime})  # fmt: skip


def _window() -> tuple[int, int, int]:
    """(max, interval ms, used in the current window) as the rate-limit headers show them."""
    cfg = setting_for(VENDOR)
    if not cfg.rate_limit_per_window:
        return DEFAULT_MAX, DEFAULT_INTERVAL_MS, 0
    start = int(time.time() // cfg.window_seconds) * cfg.window_seconds
    row = SandboxCounter.objects.filter(vendor=VENDOR, window_start=start).first()
    return cfg.rate_limit_per_window, cfg.window_seconds * 1000, row.count if row else 0


def rate_headers(response: HttpResponse, *, private_app: bool) -> HttpResponse:
    maximum, interval, used = _window()
    response["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(interval)
    response["X-HubSpot-RateLimit-Max"] = str(maximum)
    response["X-HubSpot-RateLimit-Remaining"] = str(max(0, maximum - used))
    response["X-HubSpot-RateLimit-Secondly"] = str(max(1, maximum // 10))
    response["X-HubSpot-RateLimit-Secondly-Remaining"] = str(max(0, maximum // 10 - used))
    if private_app:  # HubSpot omits the daily headers for OAuth apps
        response["X-HubSpot-RateLimit-Daily"] = str(DAILY)
        response["X-HubSpot-RateLimit-Daily-Remaining"] = str(DAILY - used)
    return response


def throttled(policy: str, message: str) -> JsonResponse:
    response = JsonResponse({"status": "error", "message": message, "errorType": "RATE_LIMIT",
                             "correlationId": str(uuid.uuid4()), "policyName": policy,
                             "groupName": f"publicapi:private-app:{VENDOR}"}, status=429)  # fmt: skip
    return response


class HubSpotHooks(VendorHooks):
    vendor = VENDOR

    def error_response(self, status: int, message: str, code: str | None = None) -> HttpResponse:
        if status == 429:  # an injected 429 answers with HubSpot's throttle body
            if "daily" in message.lower():
                return throttled("DAILY", message)
            if "secondly" in message.lower() and "ten" not in message.lower():
                return throttled("SECONDLY", message)
            return throttled("TEN_SECONDLY_ROLLING", message)
        return hs_error(status, message, code)

    def throttle_response(self, retry_after: int) -> HttpResponse:
        return throttled("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.")

    def maintenance_response(self, retry_after: int) -> HttpResponse:
        response = hs_error(503, "The service is temporarily unavailable. Please retry.", "SERVICE_UNAVAILABLE")
        response["Retry-After"] = str(retry_after)
        return response

    def authenticate(self, request: HttpRequest) -> HttpResponse | None:
        token = bearer.bearer_from(request)
        if token and hmac.compare_digest(token.encode(), sandbox_credentials(VENDOR)["access_token"].encode()):
            request.hubspot_private_app = True
            return None
        if token and bearer.verify(VENDOR, token) is not None:
            return None
        if token.count(".") == 1:
            return hs_error(401, "The OAuth token used to make this call expired.", "EXPIRED_AUTHENTICATION")
        return hs_error(401, NO_CREDENTIALS, "INVALID_AUTHENTICATION")

    def decorate(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.path.endswith("/oauth/v1/token"):
            return response
        return rate_headers(response, private_app=getattr(request, "hubspot_private_app", False))


HOOKS = HubSpotHooks()
