"""The editor's step panel: `flows:step-panel` (/flows/<key>/steps/<index>/) loads the panel of
the selected step. Kinds with a registered panel (panels.PANELS: map, route, approve) get their
own view; lookup, validate, deliver and batch fall back to the generic forms in generic.py."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from integrations.flows.models import Flow
from integrations.flows.services import draft_of
from studio.permissions import capability_required
from studio.ui.flows import generic
from studio.ui.flows.panels import PANELS


@capability_required("view_studio")
def step_panel(request, key: str, index: int) -> HttpResponse:
    flow = get_object_or_404(Flow, key=key)
    draft = draft_of(flow)
    steps = draft.definition.get("steps") if isinstance(draft.definition, dict) else None
    if not isinstance(steps, list) or not 0 <= index < len(steps):
        return HttpResponse(f"This flow's draft has no step {index}.", status=404, content_type="text/plain")
    step = steps[index] if isinstance(steps[index], dict) else {}
    view = PANELS.get(step.get("type")) or generic.panel
    return view(request, flow, draft, index)
