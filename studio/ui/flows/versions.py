"""The Versions tab: every published version (author, time, publish note, runs), compare any
two (or the draft) step by step and field by field, and restore an old one as the draft."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from integrations.flows import editing
from integrations.flows.models import Flow
from studio.permissions import capability_required
from studio.ui.flows import editor, queries
from studio.ui.flows.version_diff import compare as compare_definitions


@capability_required("view_studio")
def version_list(request, key):
    flow = get_object_or_404(Flow.objects.select_related("owner"), key=key)
    context = editor.context(request, flow, tab="versions")
    versions = list(
        flow.versions.filter(state="published").select_related("published_by", "created_by").order_by("-number")
    )
    runs = queries.runs_per_version(flow)
    context["versions"] = [(v, runs.get(v.pk, 0)) for v in versions]
    context["choices"] = ["draft", *[str(v.number) for v in versions]]
    context["default_a"] = (
        str(versions[1].number) if len(versions) > 1 else (str(versions[0].number) if versions else "")
    )
    context["default_b"] = str(versions[0].number) if len(versions) > 1 else "draft"
    return render(request, "flows/versions.html", context)


def _definition(flow: Flow, which: str, draft):
    if which == "draft":
        return draft.definition, "draft"
    if which.isdigit() and len(which) < 9:
        found = flow.versions.filter(state="published", number=int(which)).only("definition").first()
        if found:
            return found.definition, f"v{which}"
    return None, which


@capability_required("view_studio")
def compare(request, key):
    flow = get_object_or_404(Flow.objects.select_related("owner"), key=key)
    context = editor.context(request, flow, tab="versions")
    a, b = (request.GET.get("a") or "")[:20], (request.GET.get("b") or "")[:20]
    old, old_label = _definition(flow, a, context["draft"])
    new, new_label = _definition(flow, b, context["draft"])
    problems = {}
    if old is None:
        problems["a"] = f"'{a}' is not a published version of this flow (or 'draft')"
    if new is None:
        problems["b"] = f"'{b}' is not a published version of this flow (or 'draft')"
    context.update(a=a, b=b, old_label=old_label, new_label=new_label, problems=problems)
    context["choices"] = [
        "draft",
        *[str(n) for n in flow.versions.filter(state="published").values_list("number", flat=True)],
    ]
    if not problems:
        context["diff"] = compare_definitions(old, new)
    return render(request, "flows/compare.html", context, status=400 if problems else 200)


@require_POST
@capability_required("edit_flows")
def restore(request, key, number):
    flow = get_object_or_404(Flow, key=key)
    try:
        editing.restore_version(flow, request.user, number)
    except editing.EditError as exc:
        messages.error(request, exc.message)
        return redirect("flows:versions", key=flow.key)
    messages.success(request, f"Version {number} restored as the draft. Publish it to make it live again.")
    return redirect("flows:editor", key=flow.key)
