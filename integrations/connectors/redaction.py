"""Keep secrets out of anything logged or stored: headers, URLs, bodies, error text.

Two nets: values under secret-looking names (Authorization, access_token, client_secret,
password, api key...) are masked wherever they appear, and every known secret value
(the connection's credentials, fetched tokens) is masked wherever it appears verbatim.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "[redacted]"
EXCERPT_CHARS = 2000
# Fragments of header, field and parameter names whose values are secrets.
_SECRET_NAME = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[-_]?key|apikey|auth|signature|credential|"
    r"private[-_]?key|session|cookie|assertion|code[-_]?verifier|sig$|^code$|^key$",
    re.IGNORECASE,
)
# Bodies above this size are not parsed for an excerpt; patterns mask secrets instead.
PARSE_LIMIT = 256 * 1024
_NAME = r"[^\"&=]*(?:pass|secret|token|api[-_]?key|apikey|auth|signature|credential|private[-_]?key|session)[^\"&=]*"
_JSON_SECRET_PAIR = re.compile(r'("' + _NAME + r'"\s*:\s*)"[^"]*"', re.IGNORECASE)
_FORM_SECRET_PAIR = re.compile(r"((?:^|&)" + _NAME + r"=)[^&]*", re.IGNORECASE)
# Values that look like credentials even under innocent names.
_BEARER = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name or ""))


def _known(secrets: Iterable[str]) -> list[str]:
    # Longest first so a secret that contains another is masked whole; very short
    # values would mask ordinary words, so they rely on the name-based net.
    return sorted({s for s in secrets if isinstance(s, str) and len(s) >= 4}, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    for value in _known(secrets):
        text = text.replace(value, MASK)
    return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)


def redact_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], secrets: Iterable[str] = ()
) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: MASK if is_secret_name(k) else redact_text(str(v), secrets) for k, v in items}


def redact_url(url: str, secrets: Iterable[str] = ()) -> str:
    """The URL without user info and with secret query parameters masked."""
    parts = urlsplit(str(url))
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = [(k, MASK if is_secret_name(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    cleaned = urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="[]:,/@"), ""))
    return redact_text(cleaned, secrets)


def redact_data(value: Any) -> Any:
    """JSON-like data with values under secret-looking keys masked (recursively)."""
    if isinstance(value, Mapping):
        return {k: MASK if is_secret_name(str(k)) and v not in (None, "") else redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


def redact_body(content: bytes | str | None, content_type: str = "", secrets: Iterable[str] = ()) -> str:
    """A redacted, bounded excerpt of a request or response body."""
    if not content:
        return ""
    if len(content) > PARSE_LIMIT:
        # Too big to parse for an excerpt: cut first, then mask by pattern.
        head = content[: EXCERPT_CHARS * 2]
        text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
        text = _JSON_SECRET_PAIR.sub(lambda m: f'{m.group(1)}"{MASK}"', text)
        text = _FORM_SECRET_PAIR.sub(lambda m: f"{m.group(1)}{MASK}", text)
        return redact_text(text, secrets)[:EXCERPT_CHARS] + "…"
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    ctype = (content_type or "").lower()
    if "json" in ctype or text.lstrip()[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            text = json.dumps(redact_data(json.loads(text)), ensure_ascii=False)
    elif "x-www-form-urlencoded" in ctype:
        pairs = parse_qsl(text, keep_blank_values=True)
        text = urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs], safe="[]")
    text = redact_text(text, secrets)
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"
