"""The registry of step panels: step kind → the view that edits a step of that kind."""

from collections.abc import Callable

from django.http import HttpResponse

PanelView = Callable[..., HttpResponse]
PANELS: dict[str, PanelView] = {}


def register(kind: str) -> Callable[[PanelView], PanelView]:
    def add(view: PanelView) -> PanelView:
        PANELS[kind] = view
        return view

    return add
