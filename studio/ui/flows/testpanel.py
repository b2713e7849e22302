"""Test panel /flows/<key>/test/: test-run the draft (or a published version) on a pasted,
uploaded, earlier-run or connection-read record; look-ups read for real, writes are simulated
and labelled. Every view needs `edit_flows` (test-running is an analyst's job)."""

import json

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from integrations.connections.models import Connection
from integrations.flows.models import Flow
from integrations.flows.services import DraftInvalid
from integrations.flows.testing import test_run
from integrations.flowtests import inputs
from integrations.flowtests.outputs import output_of
from integrations.flowtests.samples import SampleInvalid
from studio.htmx import htmx_partial
from studio.permissions import capability_required
from studio.ui.flows.testpanel_inputs import SOURCES, record_from

FIELDS = ("source", "version", "record", "run", "connection", "object", "record_id", "sample")
SHOWN_CHARS = 20_000  # a step's input or output shown on the page; the rest is cut (big payloads freeze pages)


def pretty(value) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + f"\n… cut: {len(text):,} characters in all"


def page_context(flow: Flow, **extra) -> dict:
    trigger = (flow.draft.definition if flow.draft else {}).get("trigger") or {}
    return {
        "flow": flow,
        "sources": SOURCES,
        "versions": list(flow.versions.filter(state="published").order_by("-number").values_list("number", flat=True)),
        "connections": list(Connection.objects.order_by("name").values_list("name", flat=True)),
        "samples": list(flow.samples.order_by("name")),
        "default_connection": trigger.get("connection", ""),
        "values": {"source": "paste", "version": "draft", "connection": trigger.get("connection", "")},
        "errors": {},
        **extra,
    }


def _respond(request, flow, context: dict, status: int = 200):
    if htmx_partial(request):
        return render(request, "flows/test/htmx/result.html", {"flow": flow, **context}, status=status)
    return render(request, "flows/test/panel.html", page_context(flow, **context), status=status)


@capability_required("edit_flows")
@require_http_methods(["GET", "POST"])
def test_panel(request, key):
    flow = get_object_or_404(Flow, key=key)
    if request.method == "GET":
        context = page_context(flow)
        wanted = request.GET.get("sample", "")
        sample = flow.samples.filter(pk=int(wanted)).first() if wanted.isdigit() and len(wanted) < 18 else None
        if sample is not None:
            context["values"].update(record=pretty(sample.record), source="paste")
        return render(request, "flows/test/panel.html", context)
    values = {k: request.POST.get(k, "")[:SHOWN_CHARS] for k in FIELDS}
    if request.POST.get("action") == "browse":
        return _browse(request, flow, values)
    try:
        record, source = record_from(request, flow)
        result = test_run(flow, request.user, record, version=values["version"] or "draft")
    except SampleInvalid as exc:
        return _respond(request, flow, {"values": values, "errors": {exc.field: exc.message}}, 422)
    except LookupError as exc:
        return _respond(request, flow, {"values": values, "errors": {"version": str(exc)}}, 422)
    except DraftInvalid as exc:
        return _respond(request, flow, {"values": values, "invalid": exc.errors}, 422)
    context = {
        "values": {**values, "record": pretty(record)},
        "result": result,
        "record_json": json.dumps(record, ensure_ascii=False),
        "expected_json": json.dumps(output_of(result), ensure_ascii=False),
        "source_label": source,
        "steps": [{**s, "input_text": pretty(s["input"]), "output_text": pretty(s["output"])} for s in result["steps"]],
        "deliveries": [{**d, "payload_text": pretty(d["payload"])} for d in result["deliveries"]],
    }
    return _respond(request, flow, context)


def _browse(request, flow, values: dict):
    """A few records of the picked connection's object, each one click from a test-run."""
    try:
        records = inputs.recent(values["connection"], values["object"])
    except SampleInvalid as exc:
        return _respond(request, flow, {"values": values, "errors": {exc.field: exc.message}}, 422)
    rows = [{"json": json.dumps(r, ensure_ascii=False), "text": pretty(r)} for r in records]
    return _respond(request, flow, {"values": values, "browse": rows, "browsed": values["object"]})
