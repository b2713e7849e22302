"""Dataverse `$batch` from the client side: one change set (one transaction) of writes,
and its multipart answer read back into one WriteResult per request.
https://learn.microsoft.com/en-us/powerapps/developer/data-platform/webapi/execute-batch-operations-using-web-api
A change set is all or nothing: when one request fails, the answer holds that failure only,
and nothing was written.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any

from integrations.connectors.base import WriteResult
from integrations.connectors.errors import ConnectorError

if TYPE_CHECKING:
    from integrations.connectors.dynamics import DynamicsConnector

MAX_REQUESTS = 1000
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_STATUS = re.compile(r"^HTTP/1\.1 (\d{3})", re.MULTILINE)
_ENTITY_ID = re.compile(r"^OData-EntityId:\s*\S*\(([0-9a-fA-F-]{36})\)\s*$", re.MULTILINE | re.IGNORECASE)


def _part(method: str, url: str, record: dict[str, Any], content_id: int) -> str:
    return "\r\n".join(
        [
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: {content_id}",
            "",
            f"{method} {url} HTTP/1.1",
            "Content-Type: application/json; type=entry",
            *(["If-Match: *"] if method == "PATCH" else []),
            "",
            json.dumps(record),
        ]
    )


def body_for(base: str, object_name: str, key: str, records: list[dict[str, Any]]) -> tuple[str, str]:
    """(content type, body) of a batch holding one change set with every write."""
    batch, change = f"batch_{uuid.uuid4()}", f"changeset_{uuid.uuid4()}"
    parts = []
    for n, record in enumerate(records, start=1):
        if record.get(key):
            rest = {k: v for k, v in record.items() if k != key}
            parts.append(_part("PATCH", f"{base}/{object_name}({record[key]})", rest, n))
        else:
            parts.append(_part("POST", f"{base}/{object_name}", record, n))
    inner = "".join(f"--{change}\r\n{p}\r\n" for p in parts) + f"--{change}--\r\n"
    body = f"--{batch}\r\nContent-Type: multipart/mixed; boundary={change}\r\n\r\n{inner}--{batch}--\r\n"
    return f"multipart/mixed; boundary={batch}", body


def _answers(content_type: str, text: str) -> list[str]:
    match = _BOUNDARY.search(content_type)
    if not match:
        raise ConnectorError("Dataverse answered the batch without a multipart boundary.", kind="permanent")
    parts = [p for p in text.split(f"--{match.group(1)}")[1:] if not p.startswith("--")]
    out = []
    for part in parts:
        nested = _BOUNDARY.search(part.split("\r\n\r\n", 1)[0])
        if nested:
            out += [p for p in part.split(f"--{nested.group(1)}")[1:] if not p.startswith("--")]
        else:
            out.append(part)
    return out


def write_many(conn: DynamicsConnector, object_name: str, key: str, records: list[dict[str, Any]]) -> list[WriteResult]:
    if not records:
        return []
    if len(records) > MAX_REQUESTS:
        raise ConnectorError(f"A Dataverse batch holds at most {MAX_REQUESTS} requests.", kind="permanent")
    base = conn.url(conn.api)
    content_type, body = body_for(base, object_name, key, records)
    response = conn.request("POST", f"{conn.api}/$batch", content=body.encode(), headers={"Content-Type": content_type})
    answers = _answers(response.headers.get("Content-Type", ""), response.text)
    results = []
    for record, answer in zip(records, answers, strict=False):
        status = _STATUS.search(answer)
        code = int(status.group(1)) if status else 0
        if code >= 400 or len(answers) < len(records):
            payload = answer.split("\r\n\r\n")[-1].strip()
            try:
                message = json.loads(payload)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = payload[:300]
            raise ConnectorError(
                f"HTTP {code}: the batch was rolled back: {message}",
                kind="permanent" if 400 <= code < 500 and code != 429 else "transient",
                status_code=code or None,
            )
        found = _ENTITY_ID.search(answer)
        remote_id = found.group(1) if found else record.get(key)
        results.append(WriteResult(remote_id, not record.get(key), code))
    return results
