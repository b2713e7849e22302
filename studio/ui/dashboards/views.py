"""Dashboards: planned page until the area's runtime lands (see studio/ui/planned.py)."""

from studio.ui.planned import PlannedPageView


class DashboardsHomeView(PlannedPageView):
    template_name = "dashboards/home.html"
    title = "Dashboards"
    summary = "How the integrations are doing, in business terms."
    planned = (
        "Unbilled hours, projects waiting for activation, invoice exceptions by region.",
        "Runs and exceptions over time per flow and per connection.",
        "Each number one click from the records behind it.",
    )
