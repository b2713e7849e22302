"""Entra ID (Azure AD) client-credentials token endpoint and the Dataverse auth check,
with the AADSTS error bodies a real tenant answers."""

from __future__ import annotations

import hmac
import uuid
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import bearer
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.dynamics import VENDOR
from integrations.sandboxes.framework import VendorHooks

TENANT = "switchboard-sandbox"


def _aad_error(status: int, error: str, code: int, description: str) -> JsonResponse:
    return JsonResponse(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description}",
            "error_codes": [code],
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        },
        status=status,
    )


def issue_token(request: HttpRequest, tenant: str) -> HttpResponse:
    form = request.POST
    creds = sandbox_credentials(VENDOR)
    if form.get("grant_type") != "client_credentials":
        return _aad_error(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type ''{}''.".format(form.get("grant_type", "")),
        )
    client_id = form.get("client_id", "")
    if client_id != creds["client_id"]:
        return _aad_error(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
        )
    if not hmac.compare_digest(form.get("client_secret", "").encode(), creds["client_secret"].encode()):
        return _aad_error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client "
            f"secret value, not the client secret ID, for a secret added to app '{client_id}'.",
        )
    if not form.get("scope", "").endswith("/.default"):
        return _aad_error(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {form.get('scope', '')} is not valid. Client credential flows "
            "must have a scope value with /.default suffixed to the resource identifier.",
        )
    token, lifetime = bearer.issue(VENDOR, client_id, 3599)
    return JsonResponse(
        {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}
    )


class DataverseHooks(VendorHooks):
    vendor = VENDOR

    def error_response(self, status: int, message: str, code: str | None = None) -> HttpResponse:
        return JsonResponse({"error": {"code": code or "0x80040216", "message": message}}, status=status)

    def throttle_response(self, retry_after: int) -> HttpResponse:
        response = self.error_response(
            429, "Number of requests exceeded the limit of 6000 over time window of 300 seconds.", "0x80072322"
        )
        response["Retry-After"] = str(retry_after)
        return response

    def maintenance_response(self, retry_after: int) -> HttpResponse:
        response = self.error_response(503, "The service is temporarily unavailable for maintenance.", "0x80040216")
        response["Retry-After"] = str(retry_after)
        return response

    def authenticate(self, request: HttpRequest) -> HttpResponse | None:
        if bearer.verify(VENDOR, bearer.bearer_from(request)):
            return None
        # Dataverse answers 401 with an empty body and a challenge naming the authority.
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = (
            f'Bearer error="invalid_token", error_description="Error identified in the access token.", '
            f"authorization_uri=https://login.microsoftonline.com/{TENANT}/oauth2/authorize"
        )
        return response


HOOKS = DataverseHooks()
