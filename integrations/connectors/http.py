"""The only outbound HTTP client (httpx). Every connector call goes through here.

- timeouts always, TLS verification on, redirects never followed;
- only the connection's own host (base URL) and its `allowed_hosts` may be reached;
- https on port 443 only (`SWITCHBOARD_OUTBOUND_PORTS` to widen), and addresses that
  are not public (private, loopback, link-local, CGNAT, reserved, multicast, IPv4-mapped
  forms of them) are refused after DNS resolution, unless the origin is exactly
  `SWITCHBOARD_SANDBOX_ORIGIN` or listed in `SWITCHBOARD_ALLOW_PRIVATE_ORIGINS` —
  explicit configuration, never a guess;
- the address that was checked is the one connected to (the request is pinned to it,
  TLS still verifies the host name via SNI), so DNS rebinding cannot slip past the check;
- every call records an `Attempt` (method, redacted URL, status, duration, redacted
  request/response excerpts) through `on_attempt`, and logs one redacted line;
- every call is a client span of the current trace (integrations/tracing.py), whose
  context goes to the vendor in a `traceparent` header;
- transport failures become `ConnectorError(kind="transient")`, `ambiguous` when the
  request may have reached the system;
- a response body is read as a stream and cut off past `SWITCHBOARD_MAX_RESPONSE_BYTES`
  (10 MiB; a connection's `config.max_response_bytes` overrides it): a permanent error
  naming the limit, never a worker holding a runaway body in memory.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from opentelemetry.trace import StatusCode

from integrations import tracing
from integrations.connectors.connection_settings import ConnectionSettings
from integrations.connectors.errors import BlockedDestination, ConnectorError
from integrations.connectors.redaction import redact_body, redact_headers, redact_text, redact_url

logger = logging.getLogger("integrations.connectors.http")


class _QuietTransportLogs(logging.Filter):
    """httpx logs every URL at INFO, query-string secrets included; our own redacted line
    replaces it, so only its warnings and errors pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


for _name in ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy"):
    logging.getLogger(_name).addFilter(_QuietTransportLogs())

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
USER_AGENT = "Switchboard/1 (+integration studio)"


@cache
def ssl_context(verify: bool = True) -> ssl.SSLContext:
    """One TLS context per process: building one loads the CA bundle (~20 ms of CPU), which
    per delivery chunk added up. An SSLContext is safe to share between threads once built,
    and nothing mutates it after; a race on first use at worst builds one twice.
    trust_env=False as for the clients: no SSL_CERT_FILE picked up from the environment."""
    return httpx.create_ssl_context(verify=verify, trust_env=False)


_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class Attempt:
    """One HTTP exchange as it may be stored in a run's detail: nothing secret inside."""

    method: str
    url: str
    status_code: int | None
    duration_ms: int
    request_headers: dict[str, str] = field(default_factory=dict)
    request_excerpt: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    response_excerpt: str = ""
    error: str = ""
    started_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


AttemptRecorder = Callable[[Attempt], None]


def origin_of(url: str) -> str:
    """`scheme://host:port` with the default port spelled out, for exact comparison."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def exempt_origins() -> set[str]:
    """Origins allowed to be private/plain-http: the sandboxes' own, plus explicit extras."""
    origins = set(getattr(settings, "SWITCHBOARD_ALLOW_PRIVATE_ORIGINS", []) or [])
    if getattr(settings, "SWITCHBOARD_SANDBOXES_ENABLED", False) and settings.SWITCHBOARD_SANDBOX_ORIGIN:
        origins.add(settings.SWITCHBOARD_SANDBOX_ORIGIN)
    return {origin_of(o) for o in origins}


def allowed_ports() -> set[int]:
    return {int(p) for p in getattr(settings, "SWITCHBOARD_OUTBOUND_PORTS", None) or (443,)}


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ConnectorError(f"Cannot resolve host {host}: {exc.strerror}", kind="transient") from exc
    return sorted({str(info[4][0]) for info in infos})


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n} bytes"


class HttpClient:
    """An outbound client bound to one connection's destinations and secrets."""

    def __init__(
        self,
        *,
        base_url: str,
        allowed_hosts: Iterable[str] = (),
        secrets: Iterable[str] = (),
        on_attempt: AttemptRecorder | None = None,
        timeout: httpx.Timeout | float | None = None,
        transport: httpx.BaseTransport | None = None,
        max_response_bytes: int | None = None,
    ) -> None:
        self.base_url = base_url
        host = (urlsplit(base_url).hostname or "").lower()
        self.allowed_hosts = {host, *(h.strip().lower() for h in allowed_hosts if h and h.strip())} - {""}
        self.secrets: set[str] = {s for s in secrets if isinstance(s, str) and s}
        self.on_attempt = on_attempt
        self.timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        self.max_response_bytes = max_response_bytes or int(
            getattr(settings, "SWITCHBOARD_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES)
        )
        self._transport = transport
        # One pool per host name: requests are pinned to an IP, and a TLS connection made
        # for one host name (SNI) must never be reused for another that shares the IP.
        self._clients: dict[str, httpx.Client] = {}
        self._response_hooks: list[Callable[[httpx.Response], None]] = []

    def _client_for(self, host: str) -> httpx.Client:
        if host not in self._clients:
            self._clients[host] = httpx.Client(
                timeout=self.timeout,
                verify=ssl_context(True),
                follow_redirects=False,
                trust_env=False,  # no proxies or netrc credentials picked up from the environment
                transport=self._transport,
                headers={"User-Agent": USER_AGENT},
                event_hooks={"response": list(self._response_hooks)},
            )
        return self._clients[host]

    def add_response_hook(self, hook: Callable[[httpx.Response], None]) -> None:
        """Observe every raw response (contract tests validate exchanges against a spec)."""
        self._response_hooks.append(hook)
        for client in self._clients.values():
            client.event_hooks["response"].append(hook)

    @property
    def _client(self) -> httpx.Client:
        # The pool of the base URL's host; kept for tests written before per-host pools.
        return self._client_for((urlsplit(self.base_url).hostname or "").lower())

    @classmethod
    def for_connection(
        cls, connection: ConnectionSettings, *, secrets: Iterable[str] = (), **kwargs: Any
    ) -> HttpClient:
        config = connection.config or {}
        timeout = config.get("timeout_seconds")
        if timeout and "timeout" not in kwargs:
            kwargs["timeout"] = httpx.Timeout(float(timeout), connect=min(5.0, float(timeout)))
        if config.get("max_response_bytes") and "max_response_bytes" not in kwargs:
            kwargs["max_response_bytes"] = int(config["max_response_bytes"])
        return cls(
            base_url=connection.base_url, allowed_hosts=connection.allowed_hosts or (), secrets=secrets, **kwargs
        )

    def add_secret(self, value: str | None) -> None:
        """Mask this value too from now on (e.g. a freshly fetched access token)."""
        if value:
            self.secrets.add(value)

    # --- destination checks ---------------------------------------------------------
    def check_url(self, url: str) -> str | None:
        """Raise BlockedDestination unless `url` may be called from this connection.

        Returns the checked address to connect to, or None for an exempt origin."""
        parts = urlsplit(url)
        scheme, host = (parts.scheme or "").lower(), (parts.hostname or "").lower()
        if scheme not in _DEFAULT_PORTS or not host:
            raise BlockedDestination(f"Only http(s) URLs with a host can be called, not {redact_url(url)!r}.")
        if host not in self.allowed_hosts:
            raise BlockedDestination(f"Host {host} is not allowed for this connection (add it to allowed hosts).")
        if origin_of(url) in exempt_origins():
            return None
        if scheme != "https":
            raise BlockedDestination(f"Plain http to {host} is refused; use https.")
        port = parts.port or _DEFAULT_PORTS[scheme]
        if port not in allowed_ports():
            raise BlockedDestination(f"Port {port} is not allowed for outbound calls (SWITCHBOARD_OUTBOUND_PORTS).")
        addresses = resolve(host, port)
        for address in addresses:
            if not is_public_address(address):
                raise BlockedDestination(
                    f"{host} resolves to {address}, a private or local address; outbound calls there are refused."
                )
        if not addresses:
            raise ConnectorError(f"Cannot resolve host {host}.", kind="transient")
        return addresses[0]

    # --- the call ------------------------------------------------------------------------
    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request (httpx keyword arguments) and record it as an attempt, inside a
        client span whose context goes to the vendor as `traceparent` (integrations/tracing.py)."""
        method = method.upper()
        host = (urlsplit(url).hostname or "").lower()
        with tracing.outbound_span(method, redact_url(url, self.secrets), host) as (span, trace_headers):
            headers = httpx.Headers(kwargs.pop("headers", None))
            headers.update(trace_headers)
            response = self._send(method, url, headers=headers, **kwargs)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 400:
                span.set_status(StatusCode.ERROR)
            return response

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The call itself: destination checked, socket pinned, body capped, attempt recorded."""
        pinned = self.check_url(url)
        host = (urlsplit(url).hostname or "").lower()
        client = self._client_for(host)
        request = client.build_request(method, url, **kwargs)
        shown_url = str(request.url)
        if pinned is not None:
            # Host header and SNI keep the name (TLS verifies it); the socket goes to the
            # address that passed the check.
            request.url = request.url.copy_with(host=pinned)
            request.extensions = {**request.extensions, "sni_hostname": host}
        started, clock = datetime.now(UTC), time.monotonic()
        try:
            response = client.send(request, stream=True)
            try:
                too_big = self._read_capped(response)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            error = self._transport_error(exc, host)
            self._record(request, shown_url, None, clock, started, error=error.message)
            raise error from None
        if too_big:
            # The system answered (and may have applied the request): permanent, and
            # ambiguous so a retry by a person looks the record up before posting again.
            error = ConnectorError(
                f"The response from {host} exceeded the {_size(self.max_response_bytes)} limit "
                f"(SWITCHBOARD_MAX_RESPONSE_BYTES) and was cut off.",
                kind="permanent",
                status_code=response.status_code,
                ambiguous=True,
            )
            self._record(request, shown_url, None, clock, started, error=error.message)
            raise error
        self._record(request, shown_url, response, clock, started)
        return response

    def _read_capped(self, response: httpx.Response) -> bool:
        """Read the (decoded) body up to the limit; True when it is larger."""
        limit = self.max_response_bytes
        if int(response.headers.get("content-length") or 0) > limit:
            return True
        if hasattr(response, "_content"):  # already read (a response hook did)
            return len(response.content) > limit
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                return True
            chunks.append(chunk)
        response._content = b"".join(chunks)  # what `read()` would have stored
        return False

    def _transport_error(self, exc: httpx.HTTPError, host: str) -> ConnectorError:
        if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
            return ConnectorError(f"Timed out connecting to {host}.", kind="transient")
        if isinstance(exc, httpx.ConnectError):
            return ConnectorError(
                f"Could not connect to {host}: {redact_text(str(exc), self.secrets)}", kind="transient"
            )
        if isinstance(exc, httpx.TimeoutException):
            return ConnectorError(
                f"{host} did not answer in time; the request may have been applied.", kind="transient", ambiguous=True
            )
        # Connection dropped mid-exchange (read error, server closed without answering...).
        return ConnectorError(
            f"Connection to {host} failed mid-request ({type(exc).__name__}); the request may have been applied.",
            kind="transient",
            ambiguous=True,
        )

    def _record(
        self,
        request: httpx.Request,
        shown_url: str,
        response: httpx.Response | None,
        clock: float,
        started: datetime,
        *,
        error: str = "",
    ) -> None:
        secrets = self.secrets
        attempt = Attempt(
            method=request.method,
            url=redact_url(shown_url, secrets),
            status_code=response.status_code if response is not None else None,
            duration_ms=int((time.monotonic() - clock) * 1000),
            request_headers=redact_headers(request.headers, secrets),
            request_excerpt=redact_body(request.content, request.headers.get("content-type", ""), secrets),
            response_headers=redact_headers(response.headers, secrets) if response is not None else {},
            response_excerpt=(
                redact_body(response.content, response.headers.get("content-type", ""), secrets)
                if response is not None
                else ""
            ),
            error=redact_text(error, secrets),
            started_at=started.isoformat(),
        )
        logger.info(
            "%s %s -> %s in %sms%s",
            attempt.method,
            attempt.url,
            attempt.status_code or "no answer",
            attempt.duration_ms,
            f" ({attempt.error})" if attempt.error else "",
        )
        if self.on_attempt is not None:
            self.on_attempt(attempt)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
