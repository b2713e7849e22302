"""The exception queue: Open | Retrying | Resolved tabs, filters and grouping in the query
string, keyset pages, and one exception's page with its actions.

Reading needs `view_studio`; every action needs `work_exceptions` (a viewer sees the same
pages without controls and gets 403 on a POST). The actions live in actions.py, bulk jobs in
bulk.py; the services behind them (integrations/runs/inbox/) audit each one with its actor."""

import json

from django.http import Http404
from django.shortcuts import render

from integrations.runs.models import RunException
from studio.htmx import htmx_partial
from studio.permissions import can, capability_required
from studio.ui.exceptions import forms, queries
from studio.ui.exceptions.filters import GROUPS, TABS, ExceptionFilterForm


@capability_required("view_studio")
def exception_list(request):
    context = list_context(request)
    if htmx_partial(request) and request.GET.get("cursor"):
        return render(request, "exceptions/htmx/rows.html", context)
    return render(request, "exceptions/list.html", context, status=400 if context["form"].errors else 200)


def list_context(request, bulk_form=None) -> dict:
    form = ExceptionFilterForm(request.GET or None, flows=queries.flow_choices())
    valid = not form.is_bound or form.is_valid()
    filters = form.service_filters() if valid and form.is_bound else {"status": ",".join(TABS["open"][1])}
    group = form.cleaned_data.get("group") if valid and form.is_bound else ""
    context = {
        "form": form,
        "tab": form.chosen_tab() if valid else "open",
        "tabs": [(key, label, _tab_query(request, key)) for key, (label, _) in TABS.items()],
        "group": group,
        "group_label": GROUPS.get(group, ""),
        "can_work": can(request.user, "work_exceptions"),
        "bulk_form": bulk_form or forms.BulkForm(),
        "filter_query": _query_without(request, "cursor"),
        "people": queries.workers() if can(request.user, "work_exceptions") else [],
    }
    if not valid:
        context.update(page=None, rows=[], total=0, groups=[], group_count=0)
    elif group:
        found = queries.groups_of(filters, group)
        groups = [(g, _group_query(request, group, g.value)) for g in found.shown]
        context.update(groups=groups, total=found.exceptions, group_count=found.count)
    else:
        page = queries.page_of(filters, request.GET.get("cursor"))
        context.update(page=page, rows=page.rows, total=queries.queue(filters).count())
    return context


def _query_without(request, *names) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


# group-by -> the filter that opens one group
GROUP_FILTER = {"signature": "signature", "step": "step_id", "classification": "classification"}


def _group_query(request, group: str, value: str) -> str:
    """The queue narrowed to one group's members, the other filters kept, ungrouped."""
    query = request.GET.copy()
    for name in ("cursor", "group"):
        query.pop(name, None)
    query[GROUP_FILTER[group]] = value
    return query.urlencode()


def _tab_query(request, tab: str) -> str:
    query = request.GET.copy()
    for name in ("cursor", "tab"):
        query.pop(name, None)
    query["tab"] = tab
    return query.urlencode()


@capability_required("view_studio")
def exception_detail(request, pk):
    return render(request, "exceptions/detail.html", detail_context(request, get_exception(pk)))


def get_exception(pk) -> RunException:
    try:
        return queries.one(pk)
    except RunException.DoesNotExist as err:
        raise Http404("No such exception.") from err


def detail_context(request, exc, **forms_given) -> dict:
    """The exception page: the exception, its runs and versions, and a form per action
    (those given carry what was typed and its errors)."""
    live = exc.flow.live_version
    current = exc.current_input
    context = {
        "exc": exc,
        "ran_version": exc.run.flow_version,
        "live_version": live,
        "retries": queries.retries_of(exc),
        "original_json": _pretty(exc.original_input),
        "active": exc.status in ("open", "assigned"),
        "can_work": can(request.user, "work_exceptions"),
        "retry_form": forms.RetryForm(),
        "resolve_form": forms.ResolveForm(),
        "skip_form": forms.SkipForm(),
        "assign_form": forms.AssignForm(
            initial={"assignee": exc.assignee.username if exc.assignee else ""}, people=queries.workers()
        ),
        "tag_form": forms.TagForm(),
        "comment_form": forms.CommentForm(),
        "resubmit_form": forms.ResubmitForm(initial={"input": _pretty(current if current is not None else {})}),
    }
    context.update(forms_given)
    return context


def _pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) if value is not None else ""
