"""What every vendor sandbox shares: the endpoint decorator (auth, rate limit, injected
faults, request log, one transaction), vendor hooks for error bodies, and idempotency.

A vendor writes its hooks once and decorates each view:

    class Hooks(VendorHooks):
        vendor = "kantata"
        def error_response(self, status, message, code=None):
            return JsonResponse({"errors": [{"type": "system", "message": message}]}, status=status)
        def authenticate(self, request):          # None = accepted, or a rejection response
            return None if bearer_ok(request) else self.error_response(401, "Unauthorized")

    HOOKS = Hooks()

    @sandbox_endpoint(HOOKS, write=True)
    def create_workspace(request): ...

Faults (see `SandboxFault`) apply to the next N requests: `status` answers with the
vendor's error body, `delay` sleeps then serves, `throttle` answers with the vendor's
throttle response, `maintenance` with its maintenance response, `drop_after_commit`
runs the handler, commits, then closes the socket without answering.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import math
import socket
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.request import RawPostDataException
from django.views.decorators.csrf import csrf_exempt

from integrations.connectors.redaction import redact_body
from integrations.sandboxes.models import (
    FaultKind,
    SandboxCounter,
    SandboxFault,
    SandboxIdempotency,
    SandboxRequest,
    SandboxSetting,
)

logger = logging.getLogger("integrations.sandboxes")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_HEADERS = ("Idempotency-Key", "X-NetSuite-Idempotency-Key")


class VendorHooks:
    """Per-vendor behaviour of the shared sandbox machinery; override what differs."""

    vendor: str = ""

    def error_response(self, status: int, message: str, code: str | None = None) -> HttpResponse:
        return JsonResponse({"error": {"code": code or str(status), "message": message}}, status=status)

    def throttle_response(self, retry_after: int) -> HttpResponse:
        response = self.error_response(429, "Rate limit exceeded; retry later.", "RATE_LIMIT")
        response["Retry-After"] = str(retry_after)
        return response

    def maintenance_response(self, retry_after: int) -> HttpResponse:
        response = self.error_response(503, "Service unavailable for scheduled maintenance.", "MAINTENANCE")
        response["Retry-After"] = str(retry_after)
        return response

    def authenticate(self, request: HttpRequest) -> HttpResponse | None:
        """None when the request carries the vendor's valid credentials, else the rejection."""
        return None

    def decorate(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """Add headers every answer carries (e.g. Sforce-Limit-Info)."""
        return response


# --- settings, rate limit, faults ---------------------------------------------------------
def setting_for(vendor: str) -> SandboxSetting:
    obj, _ = SandboxSetting.objects.get_or_create(vendor=vendor)
    return obj


def check_rate_limit(vendor: str) -> int | None:
    """Count this request; seconds until the window resets when over the limit, else None."""
    cfg = setting_for(vendor)
    if not cfg.rate_limit_per_window:
        return None
    now = time.time()
    start = int(now // cfg.window_seconds) * cfg.window_seconds
    with contextlib.suppress(IntegrityError):  # another process created it first
        SandboxCounter.objects.get_or_create(vendor=vendor, window_start=start)
    SandboxCounter.objects.filter(vendor=vendor, window_start=start).update(count=F("count") + 1)
    count = SandboxCounter.objects.get(vendor=vendor, window_start=start).count
    SandboxCounter.objects.filter(vendor=vendor, window_start__lt=start - cfg.window_seconds).delete()
    if count > cfg.rate_limit_per_window:
        return max(1, math.ceil(start + cfg.window_seconds - now))
    return None


def take_fault(vendor: str, method: str) -> SandboxFault | None:
    """Claim one use of the oldest matching fault (a conditional UPDATE, safe across processes)."""
    candidates = SandboxFault.objects.filter(vendor=vendor, remaining__gt=0)
    if method not in WRITE_METHODS:
        candidates = candidates.filter(writes_only=False)
    for fault in candidates.order_by("id")[:5]:
        if SandboxFault.objects.filter(pk=fault.pk, remaining__gt=0).update(remaining=F("remaining") - 1):
            return fault
    return None


# --- the request log ---------------------------------------------------------------------------
def idempotency_key_of(request: HttpRequest) -> str:
    return next((request.headers[h] for h in IDEMPOTENCY_HEADERS if request.headers.get(h)), "")


def _body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RawPostDataException:  # a multipart body the view streamed: nothing to excerpt
        return b""


def log_request(request: HttpRequest, vendor: str, status: int | None, fault: str = "") -> None:
    SandboxRequest.objects.create(
        vendor=vendor,
        method=request.method or "",
        path=request.get_full_path()[:500],
        idempotency_key=idempotency_key_of(request)[:255],
        external_id=str(getattr(request, "sandbox_external_id", "") or "")[:255],
        body_excerpt=redact_body(_body(request), request.content_type or ""),
        status=status,
        fault=fault,
    )


# --- dropping the connection -----------------------------------------------------------------
def _find_socket(obj: object, depth: int = 0) -> socket.socket | None:
    if isinstance(obj, socket.socket):
        return obj
    if obj is None or depth > 5:
        return None
    # gunicorn hands the socket over; wsgiref (runserver, live_server) hides it behind
    # LimitedStream._read -> BufferedReader.raw -> SocketIO._sock.
    for attr in ("_sock", "raw", "stream", "_stream", "buffer", "sock", "_read", "__self__"):
        found = _find_socket(getattr(obj, attr, None), depth + 1)
        if found is not None:
            return found
    return None


def drop_connection(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The client gets no complete answer although the write committed.

    gunicorn, runserver and live_server: the socket is shut down under the server. A server
    that hides its socket (granian): the status line goes out, then the body breaks off short
    of its declared length — to the client, the same ambiguous outcome."""
    sock = request.META.get("gunicorn.socket") or _find_socket(request.META.get("wsgi.input"))
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed by the client
            sock.shutdown(socket.SHUT_RDWR)
        return response
    broken = StreamingHttpResponse(_break_off(), status=response.status_code, content_type=response["Content-Type"])
    broken["Content-Length"] = str(len(response.content) or 1)
    return broken


def _break_off():
    yield b""
    raise ConnectionAbortedError("sandbox fault: connection dropped after commit")


# --- the decorator ---------------------------------------------------------------------------------
def sandbox_endpoint(hooks: VendorHooks, *, auth: Callable | bool = True, write: bool | None = None):
    """Wrap a sandbox view. `auth=False` skips the vendor's auth check (token endpoints), a
    callable replaces it; `write` forces logging on or off (default: by HTTP method)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not settings.SWITCHBOARD_SANDBOXES_ENABLED:
                raise Http404("Sandboxes are disabled.")
            is_write = write if write is not None else request.method in WRITE_METHODS
            response, fault = _serve(hooks, auth, view, request, args, kwargs, is_write)
            response = hooks.decorate(request, response)
            if is_write:
                log_request(request, hooks.vendor, response.status_code, fault)
            if fault == FaultKind.DROP_AFTER_COMMIT:
                response = drop_connection(request, response)
            return response

        return csrf_exempt(login_not_required(wrapped))

    return decorator


def _serve(hooks, auth, view, request, args, kwargs, is_write) -> tuple[HttpResponse, str]:
    checker = hooks.authenticate if auth is True else auth
    if checker:
        rejected = checker(request)
        if rejected is not None:
            return rejected, ""
    retry_after = check_rate_limit(hooks.vendor)
    if retry_after is not None:
        return hooks.throttle_response(retry_after), "rate_limit"
    fault = take_fault(hooks.vendor, request.method or "")
    if fault is not None:
        early = _fault_response(hooks, fault)
        if early is not None:
            return early, fault.kind
    with transaction.atomic():
        response = view(request, *args, **kwargs)
    return response, fault.kind if fault is not None else ""


def _fault_response(hooks: VendorHooks, fault: SandboxFault) -> HttpResponse | None:
    retry_after = fault.retry_after if fault.retry_after is not None else 1
    if fault.kind == FaultKind.STATUS:
        return hooks.error_response(fault.status_code or 500, fault.body or "Injected sandbox fault.")
    if fault.kind == FaultKind.THROTTLE:
        return hooks.throttle_response(retry_after)
    if fault.kind == FaultKind.MAINTENANCE:
        return hooks.maintenance_response(retry_after)
    if fault.kind == FaultKind.DELAY:
        time.sleep(min(fault.delay_seconds, 120))
    return None  # delay and drop_after_commit still run the handler


# --- idempotency -------------------------------------------------------------------------------------
def request_hash(request: HttpRequest) -> str:
    return hashlib.sha256(f"{request.method} {request.path}\n".encode() + _body(request)).hexdigest()


def remembered(vendor: str, key: str) -> SandboxIdempotency | None:
    return SandboxIdempotency.objects.filter(vendor=vendor, key=key).first()


def remember(vendor: str, key: str, request: HttpRequest, response: HttpResponse) -> None:
    """Store the first answer given for `key` (inside the endpoint's transaction)."""
    SandboxIdempotency.objects.get_or_create(
        vendor=vendor,
        key=key,
        defaults={
            "request_hash": request_hash(request),
            "response_status": response.status_code,
            "response_body": response.content.decode("utf-8", "replace"),
            "response_headers": {k: v for k, v in response.items() if k.lower() in ("location", "content-type")},
        },
    )


def replay(entry: SandboxIdempotency) -> HttpResponse:
    response = HttpResponse(entry.response_body, status=entry.response_status)
    for key, value in entry.response_headers.items():
        response[key] = value
    return response
