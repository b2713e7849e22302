"""Step panels of the flow editor: one view per step kind, chosen through this registry.

A module registers its view with `@register("map")`; the editor's `flows:step-panel` URL
dispatches a selected step to the view of its kind, `(request, flow, draft, index) -> response`."""

# Importing the panel modules registers their views.
from studio.ui.flows.panels import approve, map, route  # noqa: F401
from studio.ui.flows.panels.registry import PANELS, PanelView, register

__all__ = ["PANELS", "PanelView", "register"]
