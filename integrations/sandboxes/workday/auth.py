"""Workday auth: an API client's refresh-token grant at `/ccx/oauth2/<tenant>/token`
(client authenticated by HTTP Basic), bearer tokens on the APIs, and HTTP Basic as the
integration system user (`ISU_user@tenant`) on reports-as-a-service only: Workday's REST
APIs take OAuth 2.0 bearer tokens, Basic works for SOAP and RaaS. See CData's Workday
AuthScheme reference ("Basic ... only available when ConnectionType is set to SOAP or
Reports"): https://cdn.cdata.com/help/JWM/rssis/RSBWorkday_p_AuthScheme.htm
[Workday's own page is behind the community login: unverified there]."""

from __future__ import annotations

import base64
import binascii
import hmac

from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import bearer
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.framework import VendorHooks
from integrations.sandboxes.workday import TENANT, VENDOR


def isu_username() -> str:
    return f"ISU_Switchboard@{TENANT}"


def _basic(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def error_body(message: str, field: str | None = None) -> dict:
    body: dict = {"error": message}
    if field:
        body["errors"] = [{"error": message, "field": field}]
    return body


class WorkdayHooks(VendorHooks):
    vendor = VENDOR

    def error_response(self, status: int, message: str, code: str | None = None) -> HttpResponse:
        return JsonResponse(error_body(message, code), status=status)

    def throttle_response(self, retry_after: int) -> HttpResponse:
        response = self.error_response(429, "Too many requests: the tenant's API request limit was reached.")
        response["Retry-After"] = str(retry_after)
        return response

    def maintenance_response(self, retry_after: int) -> HttpResponse:
        response = self.error_response(503, "The tenant is unavailable during the weekly service update.")
        response["Retry-After"] = str(retry_after)
        return response

    def authenticate(self, request: HttpRequest) -> HttpResponse | None:
        if bearer.verify(VENDOR, bearer.bearer_from(request)):
            return None
        basic = _basic(request)
        if basic and not is_raas(request):
            return JsonResponse(
                error_body("invalid request: REST APIs do not accept Basic authentication; use an OAuth 2.0 token"),
                status=401,
                headers={"WWW-Authenticate": f'Bearer realm="{TENANT}"'},
            )
        if basic and _same(basic[0], isu_username()) and _same(basic[1], sandbox_credentials(VENDOR)["password"]):
            return None
        return JsonResponse(
            error_body("invalid request: unauthorized"),
            status=401,
            headers={"WWW-Authenticate": f'Bearer realm="{TENANT}"'},
        )


HOOKS = WorkdayHooks()


def is_raas(request: HttpRequest) -> bool:
    """Reports-as-a-service live under /ccx/service/customreport2/."""
    return "/ccx/service/customreport2/" in request.path


@bearer.token_endpoint
def token(request: HttpRequest, tenant: str) -> HttpResponse:
    creds = sandbox_credentials(VENDOR)
    client = _basic(request) or (request.POST.get("client_id", ""), request.POST.get("client_secret", ""))
    if tenant != TENANT or not (_same(client[0], creds["client_id"]) and _same(client[1], creds["client_secret"])):
        return JsonResponse({"error": "invalid_client", "error_description": "Invalid client credentials"}, status=401)
    if request.POST.get("grant_type") != "refresh_token":
        return JsonResponse(
            {
                "error": "unsupported_grant_type",
                "error_description": "Only the refresh_token grant is enabled for this API client",
            },
            status=400,
        )
    if not _same(request.POST.get("refresh_token", ""), creds["refresh_token"]):
        return JsonResponse({"error": "invalid_grant", "error_description": "Invalid refresh token"}, status=400)
    access, _lifetime = bearer.issue(VENDOR, client[0], 3600)
    # Workday answers without expires_in; the access token lives about an hour.
    return JsonResponse({"access_token": access, "token_type": "Bearer", "refresh_token": creds["refresh_token"]})
