"""Flows: the list (filters in the query string, htmx swaps only the table), a new flow, and
the flow's page with tabs Editor | Runs | Versions | Settings.

Reading needs `view_studio`; editing the draft `edit_flows`; publishing, pausing and
activating `publish_flows` (integrations/accounts/roles.py). Every change goes through
integrations/flows (editing.py, services.py), which audits it."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from integrations.flows import services
from integrations.flows.choices import FlowStatus
from integrations.flows.models import Flow
from studio.htmx import htmx_partial
from studio.permissions import can, capability_required
from studio.ui.flows import editor, queries
from studio.ui.flows.forms import FlowFilterForm, NewFlowForm, SettingsForm


@capability_required("view_studio")
def flow_list(request):
    form = FlowFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    page = Paginator(queries.filtered(filters), queries.PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "rows": queries.rows(page.object_list),
        "page": page,
        "query": query.urlencode(),
        "filtered": bool(filters),
        "can_edit": can(request.user, "edit_flows"),
    }
    template = "flows/htmx/flow_table.html" if htmx_partial(request) else "flows/list.html"
    return render(request, template, context)


def _templates() -> list[tuple[str, str]]:
    return list(Flow.objects.filter(versions__state="published").distinct().order_by("name").values_list("key", "name"))


@capability_required("edit_flows")
def flow_new(request):
    form = NewFlowForm(request.POST or None, templates=_templates())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        definition = None
        if data["start_from"]:
            source = Flow.objects.get(key=data["start_from"]).live_version
            definition = dict(source.definition) if source else None
        if Flow.objects.filter(key=data["key"]).exists():
            form.add_error("key", "a flow with this key already exists")
        else:
            try:
                flow = services.create_flow(
                    request.user,
                    key=data["key"],
                    name=data["name"],
                    description=data["description"],
                    definition=definition,
                )
            except IntegrityError:
                form.add_error("key", "a flow with this key already exists")
            except services.DraftInvalid as exc:
                form.add_error("start_from", f"that flow's live version does not validate: {exc}")
            else:
                messages.success(request, f"Flow {flow.name} created. Pick its trigger and add steps.")
                return redirect("flows:editor", key=flow.key)
    return render(request, "flows/new.html", {"form": form}, status=400 if form.errors else 200)


@capability_required("view_studio")
def flow_editor(request, key):
    flow = get_object_or_404(Flow.objects.select_related("owner"), key=key)
    selected = request.GET.get("step")
    context = editor.context(request, flow, tab="editor")
    if selected is not None and selected.isdigit() and int(selected) < len(context["steps"]):
        context["selected"] = int(selected)
    elif selected == "trigger":
        context["selected"] = "trigger"
    return render(request, "flows/editor.html", context)


@capability_required("view_studio")
def flow_runs(request, key):
    flow = get_object_or_404(Flow.objects.select_related("owner"), key=key)
    context = editor.context(request, flow, tab="runs")
    context["runs"] = queries.recent_runs(flow)
    context["all_runs_url"] = f"{reverse('runs:list')}?flow={flow.key}"
    return render(request, "flows/runs.html", context)


@capability_required("view_studio")
def flow_settings(request, key):
    flow = get_object_or_404(Flow.objects.select_related("owner"), key=key)
    initial = {"name": flow.name, "description": flow.description, "tags": ", ".join(flow.tags), "owner": flow.owner}
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not can(request.user, "edit_flows"):
            return render(request, "403.html", status=403)
        if form.is_valid():
            services.update_flow(flow, request.user, **form.cleaned_data)
            messages.success(request, "Settings saved.")
            return redirect("flows:settings", key=flow.key)
    context = editor.context(request, flow, tab="settings")
    context["form"] = form
    return render(request, "flows/settings.html", context, status=400 if form.errors else 200)


@require_POST
@capability_required("publish_flows")
def flow_status(request, key):
    flow = get_object_or_404(Flow, key=key)
    status = request.POST.get("status")
    if status not in (FlowStatus.ACTIVE, FlowStatus.PAUSED):
        return HttpResponseBadRequest("status must be 'active' or 'paused'")
    try:
        services.set_status(flow, request.user, status)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Flow {'activated' if status == FlowStatus.ACTIVE else 'paused'}.")
    return redirect("flows:settings", key=flow.key)
