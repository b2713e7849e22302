"""BambooHR auth (API key as the HTTP Basic username, any password) and its answers:
errors are mostly an empty body with the text in `X-BambooHR-Error-Message`; throttling
is 429 (or 503) with `Retry-After`."""

from __future__ import annotations

import base64
import binascii
import hmac

from django.http import HttpRequest, HttpResponse

from integrations.sandboxes.bamboohr import VENDOR
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.framework import VendorHooks

ERROR_HEADER = "X-BambooHR-Error-Message"


def api_key_of(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":
        return ""
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[0]


class BambooHooks(VendorHooks):
    vendor = VENDOR

    def error_response(self, status: int, message: str, code: str | None = None) -> HttpResponse:
        response = HttpResponse(status=status)
        response[ERROR_HEADER] = message
        return response

    def throttle_response(self, retry_after: int) -> HttpResponse:
        response = self.error_response(429, "Too many requests. Please retry later.")
        response["Retry-After"] = str(retry_after)
        return response

    def maintenance_response(self, retry_after: int) -> HttpResponse:
        response = self.error_response(503, "BambooHR is temporarily unavailable. Please retry later.")
        response["Retry-After"] = str(retry_after)
        return response

    def authenticate(self, request: HttpRequest) -> HttpResponse | None:
        key = api_key_of(request)
        if key and hmac.compare_digest(key.encode(), sandbox_credentials(VENDOR)["api_key"].encode()):
            return None
        response = self.error_response(401, "Invalid API key.")
        response["WWW-Authenticate"] = 'Basic realm="BambooHR API"'
        return response


HOOKS = BambooHooks()
