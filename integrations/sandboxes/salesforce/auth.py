"""Salesforce auth and limits for the sandbox: the OAuth token endpoint with Salesforce's
error bodies, the session check (401 INVALID_SESSION_ID), the daily API allocation behind
`Sforce-Limit-Info` and `/limits`, and 403 REQUEST_LIMIT_EXCEEDED when it runs out.

Two token hosts, as in Salesforce: `/sandbox/salesforce/services/oauth2/token` is the
org's My Domain host, `/sandbox/salesforce/login/services/oauth2/token` plays
login.salesforce.com, which refuses the client credentials grant
(https://help.salesforce.com/s/articleView?id=000886201&language=en_US&type=1). The JWT
bearer grant checks the RS256 signature against the connected app's certificate (a key pair
the sandbox keeps; `jwt_private_key_pem()` hands tests and demos its private half), iss,
sub, aud and an exp at most 3 minutes ahead
(https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm&type=5)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from integrations.sandboxes import bearer
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.framework import VendorHooks
from integrations.sandboxes.models import SandboxRecord
from integrations.sandboxes.salesforce import VENDOR, jwt_grant

DAILY_MAX = 100_000
SESSION_SECONDS = 7200  # Salesforce's default session timeout; the token answer does not say so
ORG_ID = "00D5g000004SbXAEA0"
USER_ID = "0055g00000Qw3rTAAR"
TOTAL_LIMIT = "TotalRequests Limit exceeded."
DEFAULT_CODES = {400: "INVALID_FIELD", 401: "INVALID_SESSION_ID", 403: "INSUFFICIENT_ACCESS", 404: "NOT_FOUND",
                 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 415: "UNSUPPORTED_MEDIA_TYPE",
                 500: "UNKNOWN_EXCEPTION", 503: "SERVER_UNAVAILABLE"}  # fmt: skip


def sf_error(status: int, message: str, code: str, fields: list[str] | None = None) -> JsonResponse:
    body = [{"message": message, "errorCode": code, **({"fields": fields} if fields is not None else {})}]
    return JsonResponse(body, status=status, safe=False)


def _oauth_error(error: str, description: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


# --- the daily allocation -----------------------------------------------------------------
def _usage_row() -> SandboxRecord:
    row, _ = SandboxRecord.objects.select_for_update().get_or_create(
        vendor=VENDOR, object_type="_limits", record_id="DailyApiRequests", defaults={"data": {}}
    )
    return row


def api_usage(count: bool = False) -> int:
    """Requests used today (the allocation resets at UTC midnight here; rolling in Salesforce)."""
    today = timezone.now().date().isoformat()
    with transaction.atomic():
        row = _usage_row()
        used = row.data.get("used", 0) if row.data.get("day") == today else 0
        if count:
            used += 1
            row.data = {"day": today, "used": used}
            row.save(update_fields=["data", "updated_at"])
    return used


def set_api_usage(used: int) -> None:
    """Tests and demos: pretend the org already spent `used` requests today."""
    with transaction.atomic():
        row = _usage_row()
        row.data = {"day": timezone.now().date().isoformat(), "used": used}
        row.save(update_fields=["data", "updated_at"])


# --- the token endpoint ---------------------------------------------------------------------------
GRANTS = ("client_credentials", "password", "refresh_token", jwt_grant.GRANT)


def _client_problem(form, creds) -> JsonResponse | None:
    if form.get("client_id") != creds["client_id"]:
        return _oauth_error("invalid_client_id", "client identifier invalid")
    if not hmac.compare_digest(form.get("client_secret", "").encode(), creds["client_secret"].encode()):
        return _oauth_error("invalid_client", "invalid client credentials")
    return None


def _grant_problem(request: HttpRequest, grant: str, *, login_host: bool) -> JsonResponse | None:
    form, creds = request.POST, sandbox_credentials(VENDOR)
    if grant == jwt_grant.GRANT:
        problem = jwt_grant.check(form.get("assertion", ""), creds, audiences=jwt_grant.audiences(request))
        return _oauth_error(*problem) if problem else None
    if grant == "client_credentials" and login_host:  # only the org's My Domain host takes it
        return _oauth_error("invalid_grant", "request not supported on this domain")
    if problem := _client_problem(form, creds):
        return problem
    if grant == "password" and not (
        form.get("username") == creds["username"]
        and hmac.compare_digest(form.get("password", "").encode(), creds["password"].encode())
    ):
        return _oauth_error("invalid_grant", "authentication failure")
    if grant == "refresh_token" and not hmac.compare_digest(
        form.get("refresh_token", "").encode(), creds["refresh_token"].encode()
    ):
        return _oauth_error("invalid_grant", "expired access/refresh token")
    return None


def issue_token(request: HttpRequest, *, login_host: bool = False) -> HttpResponse:
    form, creds = request.POST, sandbox_credentials(VENDOR)
    grant = form.get("grant_type", "")
    if grant not in GRANTS:
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    if problem := _grant_problem(request, grant, login_host=login_host):
        return problem
    token, _ = bearer.issue(VENDOR, USER_ID, SESSION_SECONDS)
    instance = request.build_absolute_uri(f"/sandbox/{VENDOR}").rstrip("/")
    identity = f"{instance}/id/{ORG_ID}/{USER_ID}"
    issued_at = str(int(time.time() * 1000))
    signature = hmac.new(creds["client_secret"].encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
    return JsonResponse(
        {
            "access_token": f"{ORG_ID[:15]}!{token}",
            "instance_url": instance,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(signature).decode(),
        }
    )


class SalesforceHooks(VendorHooks):
    vendor = VENDOR

    def error_response(self, status: int, message: str, code: str | None = None) -> HttpResponse:
        if code is None:
            code = "REQUEST_LIMIT_EXCEEDED" if status == 403 and "Limit exceeded" in message else None
        return sf_error(status, message, code or DEFAULT_CODES.get(status, "UNKNOWN_EXCEPTION"))

    def throttle_response(self, retry_after: int) -> HttpResponse:
        # Salesforce never answers 429 and sends no Retry-After.
        return sf_error(403, TOTAL_LIMIT, "REQUEST_LIMIT_EXCEEDED")

    def maintenance_response(self, retry_after: int) -> HttpResponse:
        response = sf_error(503, "Server is temporarily unavailable for maintenance.", "SERVER_UNAVAILABLE")
        response["Retry-After"] = str(retry_after)
        return response

    def authenticate(self, request: HttpRequest) -> HttpResponse | None:
        token = bearer.bearer_from(request).partition("!")[2]
        if not token or bearer.verify(VENDOR, token) is None:
            response = sf_error(401, "Session expired or invalid", "INVALID_SESSION_ID", fields=None)
            response["WWW-Authenticate"] = 'Token realm="Salesforce"'
            return response
        if api_usage() >= DAILY_MAX:
            return sf_error(403, TOTAL_LIMIT, "REQUEST_LIMIT_EXCEEDED")
        return None

    def decorate(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if "/services/data/" in request.path:
            used = api_usage(count=response.status_code != 401)
            response["Sforce-Limit-Info"] = f"api-usage={used}/{DAILY_MAX}"
        return response


HOOKS = SalesforceHooks()
