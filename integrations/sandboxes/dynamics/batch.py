"""`$batch`: several requests in one multipart/mixed POST; a change set (a nested
multipart part) runs as one transaction, all or nothing. Requests run in order and the
answers come back in the same order, each as an `application/http` part.
https://learn.microsoft.com/en-us/powerapps/developer/data-platform/webapi/execute-batch-operations-using-web-api
(format per OData 4.0 part 1, 11.7 Batch Requests). When a change set fails, the answer
holds only the failed request's response. Not simulated: `$<Content-ID>` references,
`Prefer: odata.continue-on-error`, more than 1,000 requests (refused).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import urlsplit

from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict

from integrations.sandboxes.dynamics.entities import DataverseError

MAX_REQUESTS = 1000
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


@dataclass
class Part:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    content_id: str = ""


@dataclass
class ChangeSet:
    parts: list[Part] = field(default_factory=list)


def _split(body: bytes, boundary: str) -> list[bytes]:
    marker = b"--" + boundary.encode()
    chunks = body.split(marker)[1:]
    return [c.strip(b"\r\n") for c in chunks if not c.startswith(b"--")]


def _headers(block: bytes) -> dict[str, str]:
    out = {}
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


def _head_and_body(chunk: bytes) -> tuple[bytes, bytes]:
    chunk = chunk.replace(b"\r\n", b"\n")
    head, _, rest = chunk.partition(b"\n\n")
    return head, rest


def _request(chunk: bytes) -> Part:
    head, inner = _head_and_body(chunk)
    outer = _headers(head)
    if "application/http" not in outer.get("content-type", ""):
        raise DataverseError(400, "0x80048d19", "Each batch part must be Content-Type: application/http.")
    request_head, body = _head_and_body(inner)
    lines = request_head.decode("utf-8", "replace").splitlines()
    if not lines or len(lines[0].split()) < 2:
        raise DataverseError(400, "0x80048d19", "A batch part has no request line.")
    method, url = lines[0].split()[:2]
    return Part(method.upper(), url, _headers("\n".join(lines[1:]).encode()), body.strip(), outer.get("content-id", ""))


def parse(content_type: str, body: bytes) -> list[Part | ChangeSet]:
    match = _BOUNDARY.search(content_type or "")
    if "multipart/mixed" not in (content_type or "") or not match:
        raise DataverseError(400, "0x80048d19", "A $batch request must be multipart/mixed with a boundary.")
    items: list[Part | ChangeSet] = []
    for chunk in _split(body, match.group(1)):
        head, inner = _head_and_body(chunk)
        kind = _headers(head).get("content-type", "")
        nested = _BOUNDARY.search(kind)
        if "multipart/mixed" in kind and nested:
            items.append(ChangeSet([_request(c) for c in _split(inner, nested.group(1))]))
        else:
            items.append(_request(chunk))
    count = sum(len(i.parts) if isinstance(i, ChangeSet) else 1 for i in items)
    if count > MAX_REQUESTS:
        raise DataverseError(400, "0x80048d19", f"A batch holds at most {MAX_REQUESTS} requests, not {count}.")
    return items


def sub_request(outer: HttpRequest, part: Part) -> HttpRequest:
    url = urlsplit(part.url)
    request = HttpRequest()
    request.method = part.method
    request.path = request.path_info = url.path
    request.META = {k: v for k, v in outer.META.items() if k in ("SERVER_NAME", "SERVER_PORT", "HTTP_HOST")}
    request.META.update({"REQUEST_METHOD": part.method, "QUERY_STRING": url.query, "wsgi.url_scheme": outer.scheme})
    for name, value in part.headers.items():
        key = name.upper().replace("-", "_")
        request.META[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    request.GET = QueryDict(url.query)
    request._body = part.body  # a request built here: its body is set, not read from a socket
    return request


class _Rollback(Exception):
    def __init__(self, answer: tuple[Part, HttpResponse]):
        self.answer = answer


def execute(outer: HttpRequest, items: list[Part | ChangeSet], run: Callable[[HttpRequest], HttpResponse]):
    """[(part, response) | [(part, response), ...] for a change set], in request order."""
    answers: list = []
    for item in items:
        if isinstance(item, Part):
            answers.append((item, run(sub_request(outer, item))))
            continue
        try:
            with transaction.atomic():
                done = []
                for part in item.parts:
                    response = run(sub_request(outer, part))
                    if response.status_code >= 400:
                        raise _Rollback((part, response))
                    done.append((part, response))
            answers.append(done)
        except _Rollback as failed:
            answers.append([failed.answer])
    return answers


def _http_part(part: Part, response: HttpResponse) -> str:
    reason = HTTPStatus(response.status_code).phrase
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if part.content_id:
        lines.append(f"Content-ID: {part.content_id}")
    lines += ["", f"HTTP/1.1 {response.status_code} {reason}"]
    lines += [f"{k}: {v}" for k, v in response.items() if k.lower() in ("content-type", "odata-entityid", "location")]
    lines += ["", response.content.decode("utf-8", "replace")]
    return "\r\n".join(lines)


def render(answers: list) -> HttpResponse:
    batch = f"batchresponse_{uuid.uuid4()}"
    out = []
    for answer in answers:
        if isinstance(answer, list):
            change = f"changesetresponse_{uuid.uuid4()}"
            inner = "".join(f"--{change}\r\n{_http_part(p, r)}\r\n" for p, r in answer) + f"--{change}--"
            out.append(f"--{batch}\r\nContent-Type: multipart/mixed; boundary={change}\r\n\r\n{inner}\r\n")
        else:
            out.append(f"--{batch}\r\n{_http_part(*answer)}\r\n")
    body = "".join(out) + f"--{batch}--\r\n"
    response = HttpResponse(body, status=200, content_type=f"multipart/mixed; boundary={batch}")
    response["OData-Version"] = "4.0"
    return response
