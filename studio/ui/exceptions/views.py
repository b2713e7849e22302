"""Exceptions: planned page until the area's runtime lands (see studio/ui/planned.py)."""

from studio.ui.planned import PlannedPageView


class ExceptionsListView(PlannedPageView):
    template_name = "exceptions/list.html"
    title = "Exceptions"
    summary = "Runs stopped by an error that needs a person: the dead-letter queue, with business context first."
    planned = (
        "An inbox of open exceptions with the failed step, classification and the business record it concerns.",
        "Retry, edit and resubmit with a diff, skip, resolve with a reason, assign and comment — "
        "one at a time or in bulk.",
        "Every action recorded in the audit log.",
    )
