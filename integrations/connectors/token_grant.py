"""OAuth 2.0 token requests (RFC 6749 §4.4 / §6, RFC 7523 assertions) shared by the
connectors whose vendors issue bearer tokens from a token endpoint.

The token call goes through the connector's own HTTP client (allow-list, attempts,
redaction) but not through `Connector.request`, which would ask for a token itself.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit

from integrations.connectors.base import Connector, Token
from integrations.connectors.errors import ConnectorError, classify_status
from integrations.connectors.redaction import redact_text


def allow_token_host(connector: Connector, token_url: str) -> None:
    """The token endpoint is configured by an admin next to the base URL, so its host is
    allowed alongside the base URL's (login.microsoftonline.com, a tenant's token host)."""
    host = (urlsplit(token_url).hostname or "").lower()
    if host:
        connector.http.allowed_hosts.add(host)


def basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def request_token(
    connector: Connector, token_url: str, form: dict[str, str], *, auth: tuple[str, str] | None = None
) -> Token:
    """POST the grant; a refused grant is a permanent error carrying the vendor's text."""
    allow_token_host(connector, token_url)
    headers = {"Accept": "application/json"}
    if auth is not None:
        headers["Authorization"] = basic_auth(*auth)
    response = connector.http.request("POST", token_url, data=form, headers=headers)
    body: Any = connector.json_or_none(response)
    if response.status_code >= 300 or not isinstance(body, dict) or not body.get("access_token"):
        raise token_error(connector, response.status_code, response.headers.get("retry-after"), body)
    expires = body.get("expires_in")
    extra = {k: v for k, v in body.items() if k not in ("access_token", "expires_in", "refresh_token")}
    token = Token(body["access_token"], float(expires) if expires not in (None, "") else None, extra)
    connector.http.add_secret(token.access_token)
    if body.get("refresh_token"):
        connector.http.add_secret(body["refresh_token"])
    return token


def token_error(connector: Connector, status: int, retry_after: str | None, body: Any) -> ConnectorError:
    kind, seconds = classify_status(status, retry_after) if status >= 300 else ("permanent", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        text, code = body["error"].get("message", ""), body["error"].get("code")
    elif isinstance(body, dict):
        text = body.get("error_description") or body.get("error") or body.get("message") or ""
        code = body.get("error") if isinstance(body.get("error"), str) else None
    else:
        text, code = "", None
    message = redact_text(str(text) or "the token endpoint gave no access token", connector.http.secrets)
    return ConnectorError(
        f"Authentication failed (HTTP {status}): {message}",
        kind=kind,
        status_code=status,
        retry_after=seconds,
        vendor_code=code,
    )
