"""Export and import of flow definitions in the studio: /flows/<key>/io/ downloads the flow as
a JSON file; /flows/import/ (and the same form on a flow's page) takes an export file,
uploaded or pasted, shows the dry run (created / changed fields / missing connections /
errors), then applies it as drafts. Export needs `view_studio`, import `edit_flows`; both
are audited."""

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from integrations.audit import services as audit
from integrations.flows.models import Flow
from integrations.flowtests import transfer
from studio.permissions import can, capability_required

MAX_SHOWN = 200_000  # the pasted file kept in the form for "apply"


@capability_required("view_studio")
@require_GET
def io_page(request, key):
    flow = get_object_or_404(Flow, key=key)
    return render(request, "flows/io/page.html", _context(request, flow))


def _context(request, flow, **extra) -> dict:
    return {
        "flow": flow,
        "has_live": flow is not None and flow.live_version is not None,
        "can_import": can(request.user, "edit_flows"),
        "errors": {},
        "text": "",
        **extra,
    }


@capability_required("view_studio")
@require_GET
def export_file(request, key):
    flow = get_object_or_404(Flow, key=key)
    which = "live" if request.GET.get("version") == "live" else "draft"
    try:
        document = transfer.export_document([flow], which)
    except transfer.ImportInvalid as exc:
        return render(
            request, "flows/io/page.html", _context(request, flow, errors={"export": exc.message}), status=409
        )
    audit.record(request.user, "flow.export", flow, message=f"{which} definition exported")
    response = HttpResponse(transfer.dumps(document), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{flow.key}-{which}.json"'
    return response


@capability_required("edit_flows")
@require_http_methods(["POST"])
def import_file(request, key):
    return _import(request, get_object_or_404(Flow, key=key))


@capability_required("edit_flows")
@require_http_methods(["GET", "POST"])
def import_page(request):
    """The list-level import: flows that do not exist yet have no page of their own."""
    if request.method == "GET":
        return render(request, "flows/io/page.html", _context(request, None))
    return _import(request, None)


def _import(request, flow):
    """Dry run first (action=preview); action=apply imports the same text when its plan is clean."""
    upload = request.FILES.get("file")
    raw = upload.read(transfer.MAX_FILE_BYTES + 1) if upload else request.POST.get("text", "")
    text_for_form = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text_for_form = text_for_form if len(text_for_form) <= MAX_SHOWN else ""
    try:
        document = transfer.parse(raw)
        plan = transfer.plan(document)
        if request.POST.get("action") == "apply" and plan.ok:
            transfer.apply(document, request.user)
            messages.success(request, f"Imported {len(plan.flows)} flow(s) as drafts.")
            return redirect("flows:io", key=flow.key) if flow else redirect("flows:list")
    except transfer.ImportInvalid as exc:
        context = _context(request, flow, errors={"file": exc.message}, text=text_for_form)
        return render(request, "flows/io/page.html", context, status=422)
    context = _context(request, flow, plan=plan, text=text_for_form or json.dumps(document))
    return render(request, "flows/io/page.html", context, status=200 if plan.ok else 422)
