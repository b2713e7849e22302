"""Step panels of the flow editor: one view per step kind, chosen through this registry.

A module registers its view with `@register("map")`; the editor's `flows:step-panel` URL
dispatches a selected step to the view of its kind, `(request, flow, draft, index) -> response`."""

from collections.abc import Callable

from django.http import HttpResponse

PanelView = Callable[..., HttpResponse]
PANELS: dict[str, PanelView] = {}


def register(kind: str) -> Callable[[PanelView], PanelView]:
    def add(view: PanelView) -> PanelView:
        PANELS[kind] = view
        return view

    return add


# The panels register themselves on import (after `register` exists).
from studio.ui.flows.panels import approve, map, route  # noqa: E402, F401
