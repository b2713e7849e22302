"""Flows: planned page until the area's runtime lands (see studio/ui/planned.py)."""

from studio.ui.planned import PlannedPageView


class FlowsListView(PlannedPageView):
    template_name = "flows/list.html"
    title = "Flows"
    summary = "Named integrations and their versions: one editable draft and immutable published versions."
    planned = (
        "A table of every flow: name, owner, status (Draft / Active / Paused), live version, "
        "unpublished-draft badge, last run and result, open exceptions.",
        "Filters in the address bar (status, owner, connector, text).",
        "The flow editor: a vertical list of map, route, lookup, validate, approve, deliver and "
        "batch steps, with a test run on a sample record.",
        "Publishing a version, with a list of what to fix while any step is invalid.",
    )
