"""Runs: planned page until the area's runtime lands (see studio/ui/planned.py)."""

from studio.ui.planned import PlannedPageView


class RunsListView(PlannedPageView):
    template_name = "runs/list.html"
    title = "Runs"
    summary = "Every execution of a flow version on one event or schedule tick, step by step."
    planned = (
        "Run history: run id, flow and version, trigger, business key, start, duration, status, the step that failed.",
        "Filters by status, flow, version, date range, trigger and business key, paged on the server.",
        "Run detail: a timeline of step runs with input and output of each, and the deliveries it made.",
    )
