"""Publishing from the studio: the page lists what to fix (publishing is refused while
anything is), the failing regression samples (refused unless the publisher overrides with a
reason, which is audited), the impact preview, and the publish note (required).

A draft delivering to an ERP connection is not published at once: it becomes a publish
request that a second person with publish rights approves (flows/four_eyes.py)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from integrations.audit import services as audit
from integrations.flows import checks, four_eyes, services
from integrations.flows.models import Flow, PublishRequest
from integrations.flowtests import regression
from studio.permissions import capability_required
from studio.ui.flows import editor
from studio.ui.flows.impact import DEFAULT_EVENTS, MAX_EVENTS, preview

NOTE_MAX = 2000


def _context(request, flow: Flow) -> dict:
    context = editor.context(request, flow, tab="publish")
    draft = context["draft"]
    context["failures"] = regression.failures(flow, draft) if not context["errors"] else []
    context["erp"] = four_eyes.erp_targets(draft.definition)
    context["default_events"], context["max_events"] = DEFAULT_EVENTS, MAX_EVENTS
    return context


@capability_required("view_studio")
def publish_page(request, key):
    flow = get_object_or_404(Flow.objects.select_related("owner"), key=key)
    if request.method != "POST":
        return render(request, "flows/publish.html", _context(request, flow))
    if not request.user.has_perm("accounts.publish_flows"):
        return render(request, "403.html", status=403)
    context = _context(request, flow)
    notes = (request.POST.get("notes") or "").strip()
    reason = (request.POST.get("override_reason") or "").strip()
    form_errors = {}
    if not notes:
        form_errors["notes"] = "A publish note is required: say what changes and why."
    elif len(notes) > NOTE_MAX:
        form_errors["notes"] = f"At most {NOTE_MAX} characters."
    if len(reason) > NOTE_MAX:
        form_errors["override_reason"] = f"At most {NOTE_MAX} characters."
    for name, value in (("notes", notes), ("override_reason", reason)):
        if "\x00" in value:
            form_errors[name] = "Contains a NUL character."
    if context["failures"] and not reason:
        form_errors["override_reason"] = (
            f"{len(context['failures'])} regression sample(s) fail: "
            "fix the draft, or give the reason to publish anyway."
        )
    if context["errors"]:
        form_errors["general"] = "The draft has problems to fix before it can be published (listed above)."
    if form_errors:
        context.update(form_errors=form_errors, notes=notes, override_reason=reason)
        return render(request, "flows/publish.html", context, status=422)
    if context["failures"]:
        audit.record(
            request.user,
            "flow.publish.override",
            flow,
            after={"reason": reason, "failing_samples": len(context["failures"])},
        )
    try:
        if context["erp"]:
            four_eyes.request_publish(flow, request.user, notes=notes, override_reason=reason)
            messages.success(
                request,
                f"This flow delivers to {', '.join(context['erp'])}: a second person with publish rights "
                "has to approve. They see the request on this page.",
            )
            return redirect("flows:publish", key=flow.key)
        version = services.publish(flow, request.user, notes=notes)
    except (services.DraftInvalid, four_eyes.FourEyesRefused) as exc:
        context.update(form_errors={"general": str(exc)}, notes=notes, override_reason=reason)
        return render(request, "flows/publish.html", context, status=422)
    messages.success(request, f"Version {version.number} published: it is live now.")
    return redirect("flows:versions", key=flow.key)


@require_POST
@capability_required("publish_flows")
def decide(request, key, pk, decision):
    flow = get_object_or_404(Flow, key=key)
    pending = get_object_or_404(PublishRequest, pk=pk, flow=flow)
    comment = (request.POST.get("comment") or "").replace("\x00", "").strip()[:NOTE_MAX]
    try:
        if decision == "approve":
            if problems := checks.problems(services.draft_of(flow).definition):
                raise four_eyes.FourEyesRefused("draft", f"the draft has {len(problems)} problem(s) to fix first")
            version = four_eyes.approve(pending, request.user, comment=comment)
            messages.success(request, f"Approved: version {version.number} is live.")
            return redirect("flows:versions", key=flow.key)
        if decision == "reject":
            four_eyes.reject(pending, request.user, comment=comment)
            messages.success(request, "Publish request rejected.")
        elif decision == "withdraw":
            four_eyes.withdraw(pending, request.user)
            messages.success(request, "Publish request withdrawn.")
        else:
            messages.error(request, "Unknown decision.")
    except (four_eyes.FourEyesRefused, services.DraftInvalid) as exc:
        messages.error(request, str(exc))
    return redirect("flows:publish", key=flow.key)


@capability_required("view_studio")
def impact(request, key):
    flow = get_object_or_404(Flow, key=key)
    raw = request.GET.get("n") or str(DEFAULT_EVENTS)
    problem = ""
    n = DEFAULT_EVENTS
    if not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= MAX_EVENTS:
        problem = f"The number of events is a whole number from 1 to {MAX_EVENTS}."
    else:
        n = int(raw)
    result = preview(flow, services.draft_of(flow), flow.live_version, n) if not problem else None
    context = {"flow": flow, "impact": result, "n": raw[:7], "problem": problem, "max_events": MAX_EVENTS}
    return render(request, "flows/htmx/impact.html", context, status=422 if problem else 200)
