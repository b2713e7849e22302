"""Canonical objects: planned page until the area's runtime lands (see studio/ui/planned.py)."""

from studio.ui.planned import PlannedPageView


class CanonicalListView(PlannedPageView):
    template_name = "canonical/list.html"
    title = "Canonical objects"
    summary = (
        "The firm's shared business shapes — client, project, worker, assignment, rate card, "
        "timesheet, expense, invoice event, revenue milestone — each a versioned JSON Schema."
    )
    planned = (
        "Each canonical object with its schema versions and the fields of each.",
        "Breaking-change detection between versions.",
        "“Where used”: the flows and mappings that read or write each field.",
    )
