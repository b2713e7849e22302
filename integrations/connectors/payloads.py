"""Typed access to a vendor's JSON answer: a 2xx whose body is not the JSON shape the API
documents becomes a permanent ConnectorError naming the call, never a crash later on."""

from __future__ import annotations

from typing import Any

import httpx

from integrations.connectors.errors import ConnectorError


def _decode(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ConnectorError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code} "
            "without a JSON body.",
            kind="permanent",
            status_code=response.status_code,
        ) from None


def json_object(response: httpx.Response) -> dict[str, Any]:
    body = _decode(response)
    if not isinstance(body, dict):
        raise ConnectorError(
            f"{response.request.url.path} answered {type(body).__name__}, not a JSON object.",
            kind="permanent",
            status_code=response.status_code,
        )
    return body


def json_list(response: httpx.Response) -> list[dict[str, Any]]:
    body = _decode(response)
    if not isinstance(body, list):
        raise ConnectorError(
            f"{response.request.url.path} answered {type(body).__name__}, not a JSON array.",
            kind="permanent",
            status_code=response.status_code,
        )
    return body
