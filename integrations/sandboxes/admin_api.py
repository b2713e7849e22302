"""Sandbox control for tests and demos: `/sandbox/<vendor>/_admin/…`.

    GET  requests   the write-request log (?after=<id> for newer entries only)
    GET  faults     pending injected faults;  POST faults  inject one;  DELETE faults  clear
    POST reset      wipe the vendor's state and re-seed ({"size": "demo"|"test"|<int>})
    GET/POST settings  rate limit, webhook target

Admin-only: a signed-in user with the `manage_users` capability, or header `X-Sandbox-Admin-Token`
(see `credentials.admin_token`). 404 unless SWITCHBOARD_SANDBOXES_ENABLED.
"""

from __future__ import annotations

import functools
import hmac
import json
from importlib import import_module

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.sandboxes.credentials import admin_token
from integrations.sandboxes.framework import setting_for
from integrations.sandboxes.models import (
    FaultKind,
    SandboxCounter,
    SandboxFault,
    SandboxIdempotency,
    SandboxRecord,
    SandboxRequest,
)

SEED_SIZES = ("demo", "test")


def _is_admin(request: HttpRequest) -> bool:
    token = request.headers.get("X-Sandbox-Admin-Token", "")
    if token and hmac.compare_digest(token, admin_token()):
        return True
    # Admins are studio users with the manage_users capability (not necessarily Django staff).
    user = request.user
    return bool(user.is_authenticated and user.has_perm("accounts.manage_users"))


def admin_only(view):
    @functools.wraps(view)
    def wrapped(request: HttpRequest, vendor: str, *args, **kwargs):
        if not settings.SWITCHBOARD_SANDBOXES_ENABLED:
            raise Http404("Sandboxes are disabled.")
        if not _is_admin(request):
            return JsonResponse({"error": "Sandbox control is for administrators."}, status=403)
        return view(request, vendor, *args, **kwargs)

    return csrf_exempt(login_not_required(wrapped))


def _json_body(request: HttpRequest) -> dict:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise ValueError("body: not valid JSON") from None
    if not isinstance(body, dict):
        raise ValueError("body: expected a JSON object")
    return body


def _bad(message: str) -> JsonResponse:
    field, _, detail = message.partition(": ")
    return JsonResponse({"error": message, "field": field if detail else None}, status=400)


@admin_only
@require_http_methods(["GET"])
def requests_view(request: HttpRequest, vendor: str) -> JsonResponse:
    qs = SandboxRequest.objects.filter(vendor=vendor)
    after = request.GET.get("after", "")
    if after.isdigit():
        qs = qs.filter(id__gt=int(after))
    rows = [
        {
            "id": r.id,
            "method": r.method,
            "path": r.path,
            "idempotency_key": r.idempotency_key,
            "external_id": r.external_id,
            "body": r.body_excerpt,
            "status": r.status,
            "fault": r.fault,
            "at": r.at.isoformat(),
        }
        for r in qs.order_by("id")[:1000]
    ]
    return JsonResponse({"vendor": vendor, "count": len(rows), "requests": rows})


def fault_from(body: dict, vendor: str) -> SandboxFault:
    """A validated, unsaved fault from JSON-like input; ValueError("field: problem")."""
    kind = body.get("kind")
    if kind not in FaultKind.values:
        raise ValueError(f"kind: must be one of {', '.join(FaultKind.values)}")
    fault = SandboxFault(
        vendor=vendor,
        kind=kind,
        body=str(body.get("message", ""))[:2000],
        writes_only=bool(body.get("writes_only", False)),
    )
    for name, attr, cast, low, high in (
        ("count", "remaining", int, 1, 100000),
        ("status_code", "status_code", int, 100, 599),
        ("delay_seconds", "delay_seconds", float, 0, 120),
        ("retry_after", "retry_after", int, 0, 86400),
    ):
        if body.get(name) is None:
            continue
        try:
            value = cast(body[name])
        except (TypeError, ValueError):
            raise ValueError(f"{name}: must be a number") from None
        if not low <= value <= high:
            raise ValueError(f"{name}: must be between {low} and {high}")
        setattr(fault, attr, value)
    if kind == FaultKind.STATUS and not fault.status_code:
        raise ValueError("status_code: required for a status fault")
    return fault


@admin_only
@require_http_methods(["GET", "POST", "DELETE"])
def faults_view(request: HttpRequest, vendor: str) -> JsonResponse:
    if request.method == "POST":
        try:
            fault = fault_from(_json_body(request), vendor)
        except ValueError as exc:
            return _bad(str(exc))
        fault.save()
        return JsonResponse({"id": fault.id, "kind": fault.kind, "remaining": fault.remaining}, status=201)
    if request.method == "DELETE":
        deleted, _ = SandboxFault.objects.filter(vendor=vendor).delete()
        return JsonResponse({"deleted": deleted})
    rows = SandboxFault.objects.filter(vendor=vendor, remaining__gt=0).values(
        "id", "kind", "remaining", "status_code", "delay_seconds", "retry_after", "body", "writes_only"
    )
    return JsonResponse({"faults": list(rows)})


def parse_size(value) -> str | int:
    if value in (None, ""):
        return "test"
    if value in SEED_SIZES:
        return value
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError("size: must be 'demo', 'test' or a number of time entries") from None
    if not 0 <= number <= 100_000:
        raise ValueError("size: between 0 and 100000 time entries")
    return number


def seeder_for(vendor: str):
    """The vendor's `seed(size) -> {object_type: count}` from `<vendor>/seed.py`."""
    return import_module(f"integrations.sandboxes.{vendor}.seed").seed


def reset_vendor(vendor: str, size: str | int = "test") -> dict:
    """Wipe a vendor's sandbox state and re-seed it, in one transaction."""
    seeder = seeder_for(vendor)
    with transaction.atomic():
        for model in (SandboxRecord, SandboxRequest, SandboxFault, SandboxIdempotency, SandboxCounter):
            model.objects.filter(vendor=vendor).delete()
        summary = seeder(size) or {}
        cfg = setting_for(vendor)
        cfg.seeded_size = str(size)
        cfg.seeded_at = timezone.now()
        cfg.save(update_fields=["seeded_size", "seeded_at"])
    return summary


@admin_only
@require_http_methods(["POST"])
def reset_view(request: HttpRequest, vendor: str) -> JsonResponse:
    try:
        size = parse_size(_json_body(request).get("size"))
    except ValueError as exc:
        return _bad(str(exc))
    try:
        seeder_for(vendor)
    except ModuleNotFoundError:
        return JsonResponse({"error": f"The {vendor} sandbox has no seeder yet."}, status=501)
    return JsonResponse({"vendor": vendor, "size": size, "seeded": reset_vendor(vendor, size)})


SETTING_FIELDS = {"rate_limit_per_window": (int, 1, 1_000_000), "window_seconds": (int, 1, 86400)}


@admin_only
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest, vendor: str) -> JsonResponse:
    cfg = setting_for(vendor)
    if request.method == "POST":
        try:
            body = _json_body(request)
            for name, (cast, low, high) in SETTING_FIELDS.items():
                if name in body:
                    value = None if body[name] is None and name == "rate_limit_per_window" else cast(body[name])
                    if value is not None and not low <= value <= high:
                        raise ValueError(f"{name}: must be between {low} and {high}")
                    setattr(cfg, name, value)
            if "webhook_target" in body:
                target = str(body["webhook_target"] or "")
                if target and not target.startswith(("http://", "https://")):
                    raise ValueError("webhook_target: must be an http(s) URL")
                cfg.webhook_target = target
        except (TypeError, ValueError) as exc:
            return _bad(str(exc) if ": " in str(exc) else f"body: {exc}")
        cfg.save()
    return JsonResponse(
        {
            "vendor": vendor,
            "rate_limit_per_window": cfg.rate_limit_per_window,
            "window_seconds": cfg.window_seconds,
            "webhook_target": cfg.webhook_target,
            "seeded_size": cfg.seeded_size,
        }
    )


def admin_urls() -> list:
    return [
        path("requests", requests_view),
        path("faults", faults_view),
        path("reset", reset_view),
        path("settings", settings_view),
    ]
