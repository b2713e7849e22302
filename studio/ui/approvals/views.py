"""Approvals: planned page until the area's runtime lands (see studio/ui/planned.py)."""

from studio.ui.planned import PlannedPageView


class ApprovalsInboxView(PlannedPageView):
    template_name = "approvals/inbox.html"
    title = "Approvals"
    summary = "Runs waiting for a decision from an approver."
    planned = (
        "Pending, decided-by-me and submitted-by-me tabs.",
        "Each item shows the business summary first, why it came to you and when it is due.",
        "Approve, reject with a comment, or reassign; each decision is audited.",
    )
