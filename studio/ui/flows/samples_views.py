"""Pinned samples of a flow: pin the tested input (optionally with its output as the expected
one), edit, delete, and run them all as regression checks. All need `edit_flows`; every
change is audited by integrations/flowtests/samples.py."""

import json

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from integrations.flows.models import Flow
from integrations.flows.services import draft_of
from integrations.flowtests import regression, samples
from integrations.flowtests.inputs import from_text
from integrations.flowtests.samples import SampleInvalid
from studio.permissions import capability_required
from studio.ui.flows.testpanel import page_context, pretty

MAX_FORM_CHARS = 1_000_000


@capability_required("edit_flows")
@require_POST
def pin(request, key):
    flow = get_object_or_404(Flow, key=key)
    try:
        record = from_text(request.POST.get("record"), "record")
        expected = from_text(request.POST.get("expected"), "expected") if request.POST.get("keep_output") else None
        sample = samples.pin(
            flow,
            request.user,
            name=request.POST.get("name"),
            record=record,
            expected=expected,
            source=request.POST.get("source_label", ""),
        )
    except SampleInvalid as exc:
        values = {"record": request.POST.get("record", "")[:20_000], "source": "paste", "version": "draft"}
        context = page_context(flow, values=values, errors={f"pin_{exc.field}": exc.message})
        context["pin_name"] = request.POST.get("name", "")[:200]
        # the pin form comes back with the error at its field and what was being pinned
        context["record_json"] = request.POST.get("record", "")[:MAX_FORM_CHARS]
        context["expected_json"] = request.POST.get("expected", "")[:MAX_FORM_CHARS]
        context["source_label"] = request.POST.get("source_label", "")[:200]
        return render(request, "flows/test/panel.html", context, status=422)
    kind = "regression sample (with its expected output)" if sample.is_regression else "sample"
    messages.success(request, f"Pinned {kind} “{sample.name}”.")
    return redirect("flows:test", key=flow.key)


@capability_required("edit_flows")
@require_http_methods(["GET", "POST"])
def sample_edit(request, key, sample_id):
    flow = get_object_or_404(Flow, key=key)
    sample = get_object_or_404(flow.samples, pk=sample_id)
    values = {
        "name": sample.name,
        "record": pretty(sample.record),
        "expected": pretty(sample.expected) if sample.expected is not None else "",
    }
    errors: dict = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "")[:MAX_FORM_CHARS] for k in ("name", "record", "expected")}
        try:
            expected = from_text(values["expected"], "expected") if values["expected"].strip() else None
            samples.update(
                sample, request.user, name=values["name"], record=from_text(values["record"]), expected=expected
            )
        except SampleInvalid as exc:
            errors[exc.field] = exc.message
        else:
            messages.success(request, f"Sample “{sample.name}” saved.")
            return redirect("flows:test", key=flow.key)
    context = {"flow": flow, "sample": sample, "values": values, "errors": errors}
    return render(request, "flows/test/sample_form.html", context, status=422 if errors else 200)


@capability_required("edit_flows")
@require_POST
def sample_delete(request, key, sample_id):
    flow = get_object_or_404(Flow, key=key)
    sample = get_object_or_404(flow.samples, pk=sample_id)
    samples.delete(sample, request.user)
    messages.success(request, f"Sample “{sample.name}” deleted.")
    return redirect("flows:test", key=flow.key)


@capability_required("edit_flows")
@require_POST
def run_regression(request, key):
    """Every regression sample against the draft, as publishing will run them."""
    flow = get_object_or_404(Flow, key=key)
    found = regression.failures(flow, draft_of(flow))
    checked = flow.samples.filter(expected__isnull=False).count()
    for failure in found:
        for change in failure["diff"]:
            change["expected_text"] = json.dumps(change["expected"], ensure_ascii=False, default=str)
            change["actual_text"] = json.dumps(change["actual"], ensure_ascii=False, default=str)
    context = page_context(flow, regression={"failures": found, "checked": checked})
    return render(request, "flows/test/panel.html", context, status=200)
