"""The Sandbox panel of a connection that points at one of the app's own sandboxes:
recent write requests, fault injection and reset — for administrators (`manage_users`),
the same rights as the sandbox control API."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from integrations.sandboxes.admin_api import fault_from, parse_size, reset_vendor
from integrations.sandboxes.models import SandboxFault, SandboxRequest
from integrations.sandboxes.urls import SANDBOXES
from studio.permissions import can
from studio.ui.connections.queries import get_connection

FAULT_FIELDS = ("kind", "count", "status_code", "delay_seconds", "retry_after", "message", "writes_only")


def sandbox_vendor(connection) -> str | None:
    """The vendor slug when the connection calls this app's own sandbox, else None."""
    if not settings.SWITCHBOARD_SANDBOXES_ENABLED:
        return None
    prefix = settings.SWITCHBOARD_SANDBOX_ORIGIN.rstrip("/") + "/sandbox/"
    if not connection.base_url.startswith(prefix):
        return None
    vendor = connection.base_url[len(prefix) :].split("/", 1)[0]
    return vendor if vendor in SANDBOXES else None


def panel(request, connection) -> dict | None:
    vendor = sandbox_vendor(connection)
    if vendor is None or not can(request.user, "manage_users"):
        return None
    return {
        "vendor": vendor,
        "requests": list(SandboxRequest.objects.filter(vendor=vendor).order_by("-id")[:15]),
        "faults": list(SandboxFault.objects.filter(vendor=vendor, remaining__gt=0)),
    }


def _vendor_or_403(request, connection) -> str:
    vendor = sandbox_vendor(connection)
    if vendor is None or not can(request.user, "manage_users"):
        raise PermissionDenied
    return vendor


@require_POST
def inject_fault(request, name):
    connection = get_connection(name)
    vendor = _vendor_or_403(request, connection)
    body = {k: request.POST.get(k) for k in FAULT_FIELDS if request.POST.get(k) not in (None, "")}
    body["writes_only"] = bool(request.POST.get("writes_only"))
    try:
        fault = fault_from(body, vendor)
    except ValueError as exc:
        messages.error(request, f"Fault not added — {exc}")
    else:
        fault.save()
        messages.success(request, f"The next {fault.remaining} request(s) to the {vendor} sandbox get: {fault.kind}.")
    return redirect("connections:detail", name=name)


@require_POST
def reset(request, name):
    connection = get_connection(name)
    vendor = _vendor_or_403(request, connection)
    try:
        size = parse_size(request.POST.get("size") or "demo")
    except ValueError as exc:
        messages.error(request, f"Not reset — {exc}")
    else:
        counts = reset_vendor(vendor, size)
        messages.success(
            request,
            f"The {vendor} sandbox was reset: {sum(v for v in counts.values() if isinstance(v, int))} records seeded.",
        )
    return redirect("connections:detail", name=name)
