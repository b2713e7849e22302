"""Generic step forms (lookup, validate, deliver, batch) and the fallback for unknown kinds."""

from django.shortcuts import render

from studio.ui.flows.sample_input import explain


def panel(request, flow, draft, index):
    step = draft.definition["steps"][index]
    sample = explain(flow, draft, index)
    return render(
        request,
        "flows/panels/generic.html",
        {"flow": flow, "draft": draft, "index": index, "step": step, "sample": sample},
    )
