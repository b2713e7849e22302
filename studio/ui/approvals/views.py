"""The approver inbox: Pending | Decided by me | Submitted by me. Each card leads with the
business summary, says why it came to you and when it is due; approve, reject (a comment is
required) and reassign work inline (htmx swaps the card), and approving several at once is
allowed within one step after a confirmation with the count.

`?task=<id>` (the link approval e-mails carry) opens that task's card at the top, decided or
not. Reading needs `view_studio`; deciding needs `decide_approvals` and, per task, to be its
decider (integrations.approvals.services.may_decide), otherwise the POST answers 403."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from integrations.approvals import services as approvals
from integrations.approvals.choices import ApprovalStatus
from studio.htmx import htmx_partial
from studio.permissions import can, capability_required
from studio.ui.approvals import queries
from studio.ui.approvals.cards import card_for

TABS = {"pending": "Pending", "decided": "Decided by me", "submitted": "Submitted by me"}
BULK_MAX = 200


@require_GET
@capability_required("view_studio")
def inbox(request):
    tab = request.GET.get("tab") or "pending"
    task_param = request.GET.get("task", "")
    problems = {}
    if tab not in TABS:
        problems["tab"] = f"There is no tab “{tab}”; choose Pending, Decided by me or Submitted by me."
        tab = "pending"
    if task_param and not task_param.isdigit():
        problems["task"] = f"“{task_param}” is not an approval number."
    page_param = request.GET.get("page", "") or "1"
    if not page_param.isdigit() or int(page_param) < 1:
        problems["page"] = f"“{page_param[:20]}” is not a page number."
        page_param = "1"
    context = inbox_context(request, tab, int(task_param) if task_param.isdigit() else None, int(page_param))
    context["problems"] = problems
    status = 400 if problems else (404 if context["missing_task"] else 200)
    return render(request, "approvals/inbox.html", context, status=status)


def inbox_context(request, tab: str, task_id: int | None, page: int = 1) -> dict:
    user, groups = request.user, approvals.group_names(request.user)
    focus = queries.one(task_id) if task_id else None
    context = {
        "tab": tab,
        "tabs": TABS,
        "can_decide": can(user, "decide_approvals"),
        "people": queries.deciders(),
        # The cards' form addresses are built from this, reversed once for the page.
        "inbox_url": reverse("approvals:inbox"),
    }
    if tab == "pending":
        rows, total, page = queries.pending_page(user, page)
        next_cursor = None
    else:
        finder = queries.decided_by if tab == "decided" else queries.submitted_by
        page = finder(user, request.GET.get("cursor"))
        rows, next_cursor, total = page.rows, page.next_cursor, None
    cards = [card_for(t, user, groups) for t in rows if not focus or t.pk != focus.pk]
    context.update(
        focus=card_for(focus, user, groups) if focus else None,
        missing_task=bool(task_id) and focus is None,
        task_id=task_id,
        steps=by_step(cards) if tab == "pending" else [],
        cards=cards,
        total=total,
        pages=pages_of(page, total) if total is not None else None,
        next_cursor=next_cursor,
        # On the pending tab a decider's tasks are exactly the ones they may decide.
        waiting=queries.waiting_count(user) if tab != "pending" else (total if context["can_decide"] else 0),
    )
    return context


def pages_of(page: int, total: int) -> dict | None:
    """The pending tab's paging: None when everything fits on one page."""
    last = max(1, -(-total // queries.PAGE_SIZE))
    if last == 1 and page == 1:
        return None
    first_shown = (page - 1) * queries.PAGE_SIZE + 1
    return {
        "number": page,
        "last": last,
        "first_shown": first_shown,
        "last_shown": min(total, page * queries.PAGE_SIZE),
        "previous": page - 1 if page > 1 else None,
        "next": page + 1 if page < last else None,
    }


def by_step(cards) -> list[dict]:
    """Pending cards grouped by (flow, step): bulk approval is offered within one group only."""
    groups: dict[tuple, dict] = {}
    for card in cards:
        flow = card.task.run.flow_version.flow
        key = (flow.pk, card.task.step_id)
        entry = groups.setdefault(key, {"flow": flow, "step_id": card.task.step_id, "cards": [], "decidable": 0})
        entry["cards"].append(card)
        entry["decidable"] += card.can_decide
    return list(groups.values())


def _task_or_404(pk):
    task = queries.one(pk)
    if task is None:
        raise Http404("No such approval.")
    return task


@require_POST
@capability_required("decide_approvals")
def decide(request, pk):
    task = _task_or_404(pk)
    outcome = {"approve": ApprovalStatus.APPROVED, "reject": ApprovalStatus.REJECTED}.get(request.POST.get("outcome"))
    comment = request.POST.get("comment", "").strip()
    if outcome is None:
        return card_response(request, task, {"outcome": "Choose Approve or Reject."}, status=400)
    try:
        approvals.decide(task, request.user, outcome, comment)
    except approvals.DecisionInvalid as err:
        return refused(request, task, err)
    task = queries.one(pk)
    if task.status == ApprovalStatus.PENDING:  # policy "all": one approval of several
        notice = "Your approval is recorded; waiting for the other approvers."
    else:
        notice = f"{task.get_status_display()} by you."
    return card_response(request, task, notice=notice)


@require_POST
@capability_required("decide_approvals")
def reassign(request, pk):
    task = _task_or_404(pk)
    try:
        approvals.reassign(task, request.user, request.POST.get("assignee", "").strip())
    except approvals.DecisionInvalid as err:
        return refused(request, task, err)
    task = queries.one(pk)
    return card_response(request, task, notice=f"Reassigned to {task.assignee.get_username()}.")


def refused(request, task, err: approvals.DecisionInvalid):
    """Not theirs: 403. Decided meanwhile: the card as it is now (409 without htmx, where a
    409 would not be swapped in). A missing comment or a bad assignee: the error at the field."""
    if err.forbidden:
        return HttpResponse(err.message, status=403, content_type="text/plain; charset=utf-8")
    if err.field == "status":
        return card_response(
            request, queries.one(task.pk), notice=err.message, status=200 if htmx_partial(request) else 409
        )
    return card_response(request, task, {err.field: err.message}, status=422 if htmx_partial(request) else 400)


def card_response(request, task, errors=None, notice: str = "", status: int = 200):
    """htmx: the card alone, swapped in place (and the navigation badge refreshed); without
    htmx: back to the inbox, opened at this card."""
    if not htmx_partial(request):
        if errors or status >= 400:
            context = inbox_context(request, "pending", task.pk)
            context["focus"] = card_for(
                task, request.user, approvals.group_names(request.user), form_errors=errors, notice=notice
            )
            context["problems"] = {}
            return render(request, "approvals/inbox.html", context, status=status)
        messages.success(request, notice)
        return redirect(f"{reverse('approvals:inbox')}?task={task.pk}")
    card = card_for(task, request.user, approvals.group_names(request.user), form_errors=errors, notice=notice)
    context = {
        "card": card,
        "people": queries.deciders(),
        "waiting": queries.waiting_count(request.user),
        "oob": True,
        "inbox_url": reverse("approvals:inbox"),
    }
    return render(request, "approvals/htmx/card.html", context, status=status)


@require_GET
@capability_required("view_studio")
def badge(request):
    """The navigation's count of approvals waiting for this user (loaded after the page)."""
    return render(request, "approvals/htmx/badge.html", {"waiting": queries.waiting_count(request.user)})


@require_POST
@capability_required("decide_approvals")
def bulk_approve(request):
    """Approve several tasks of one step: first a confirmation with the count, then each one
    through the same service as a single decision (so each is checked and audited)."""
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()][:BULK_MAX]
    tasks = list(queries.pending(request.user).filter(pk__in=ids)) if ids else []
    steps = {(t.run.flow_version.flow_id, t.step_id) for t in tasks}
    error = ""
    if not tasks:
        error = "Select at least one approval that is waiting for you."
    elif len(steps) > 1:
        error = "Approve several at once only within one step: these belong to different steps."
    if error:
        return render(
            request, "approvals/bulk_confirm.html", {"error": error, "tasks": tasks, "count": len(tasks)}, status=400
        )
    comment = request.POST.get("comment", "").strip()
    if not request.POST.get("confirm"):
        return render(request, "approvals/bulk_confirm.html", {"tasks": tasks, "count": len(tasks), "comment": comment})
    done, failed = 0, []
    for task in tasks:
        try:
            approvals.decide(task, request.user, ApprovalStatus.APPROVED, comment)
            done += 1
        except approvals.DecisionInvalid as err:
            failed.append(f"#{task.pk}: {err.message}")
    messages.success(
        request, f"Approved {done} of {len(tasks)}." + (f" Not approved: {'; '.join(failed)}." if failed else "")
    )
    return redirect("approvals:inbox")
