"""The actions on one exception, each a POST from its page: retry, resolve, skip, assign,
tag, comment, and edit-and-resubmit (edit → confirm with the diff → resubmit).

A form that does not validate, or an action the service refuses, comes back on the page with
the error at its field (400; 409 when the exception is no longer open); success goes back to
the page with a message saying what happened."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from integrations.runs.inbox import actions as inbox
from integrations.runs.inbox.resubmit import preview_resubmission, resubmit
from studio.htmx import htmx_partial, hx_redirect
from studio.permissions import capability_required
from studio.ui.exceptions import forms, queries
from studio.ui.exceptions.views import detail_context, get_exception

# action -> (form class, form context name, service call, what the message says)
SIMPLE = {
    "retry": (
        forms.RetryForm,
        "retry_form",
        lambda exc, user, d: inbox.retry(exc, user, from_step=d["from_step"], version=d["version"]),
        "Retry started",
    ),
    "resolve": (
        forms.ResolveForm,
        "resolve_form",
        lambda exc, user, d: inbox.resolve(exc, user, d["reason"]),
        "Resolved",
    ),
    "skip": (forms.SkipForm, "skip_form", lambda exc, user, d: inbox.skip(exc, user, d["reason"]), "Skipped"),
    "assign": (
        forms.AssignForm,
        "assign_form",
        lambda exc, user, d: inbox.assign(exc, user, d["assignee"] or None),
        "Assignment saved",
    ),
    "tag": (
        forms.TagForm,
        "tag_form",
        lambda exc, user, d: inbox.tag(exc, user, [d["add"].strip()] if d["add"].strip() else [], _listed(d["remove"])),
        "Tags saved",
    ),
    "comment": (
        forms.CommentForm,
        "comment_form",
        lambda exc, user, d: inbox.comment(exc, user, d["body"]),
        "Comment added",
    ),
}


def _listed(value: str) -> list[str]:
    return [value] if value else []


def make_action_view(name: str):
    form_class, context_name, call, done = SIMPLE[name]

    @require_POST
    @capability_required("work_exceptions")
    def view(request, pk):
        exc = get_exception(pk)
        kwargs = {"people": queries.workers()} if form_class is forms.AssignForm else {}
        form = form_class(request.POST, **kwargs)
        if form.is_valid():
            try:
                call(exc, request.user, form.cleaned_data)
            except inbox.ActionInvalid as err:
                return refused(request, exc, form, context_name, err)
            messages.success(request, f"{done}.")
            return redirect("exceptions:detail", pk=exc.pk)
        return render(
            request, "exceptions/detail.html", detail_context(request, exc, **{context_name: form}), status=400
        )

    view.__name__ = f"exception_{name}"
    return view


def refused(request, exc, form, context_name, err: inbox.ActionInvalid, template="exceptions/detail.html"):
    """The service said no: the error at the field it names (or above the form), 409 when the
    exception moved on (someone else acted first)."""
    if err.conflict:  # someone acted first: the page as it is now, saying so
        messages.error(request, f"Not done: {err.message}.")
        if htmx_partial(request):  # htmx does not swap a 409: reload the page instead
            return hx_redirect(redirect("exceptions:detail", pk=exc.pk).url)
        return render(request, "exceptions/detail.html", detail_context(request, get_exception(exc.pk)), status=409)
    field = err.field.split(".")[0]
    message = err.message if field == err.field else f"{err.field}: {err.message}"
    form.add_error(field if field in form.fields else None, message)
    context = detail_context(request, get_exception(exc.pk), **{context_name: form})
    return render(request, template, context, status=422 if htmx_partial(request) else 400)


@require_POST
@capability_required("work_exceptions")
def exception_resubmit(request, pk):
    """Edit → confirm (the diff, nothing run yet) → resubmit. `edit` goes back to the editor."""
    exc = get_exception(pk)
    form = forms.ResubmitForm(request.POST)
    template = "exceptions/htmx/resubmit.html" if htmx_partial(request) else "exceptions/detail.html"
    if request.POST.get("edit") or not form.is_valid():
        status = 200 if request.POST.get("edit") else (422 if htmx_partial(request) else 400)
        return render(request, template, detail_context(request, exc, resubmit_form=form), status=status)
    edited, note = form.cleaned_data["input"], form.cleaned_data["note"]
    try:
        if not form.cleaned_data["confirm"]:
            changes = preview_resubmission(exc, edited)
            context = detail_context(request, exc, resubmit_form=form, resubmit_diff=changes)
            return render(request, template, context)
        exc = resubmit(exc, request.user, edited, note)
    except inbox.ActionInvalid as err:
        return refused(request, exc, form, "resubmit_form", err, template)
    messages.success(request, f"Resubmitted as revision {len(exc.input_revisions)}.")
    url = redirect("exceptions:detail", pk=exc.pk).url
    return hx_redirect(url) if htmx_partial(request) else redirect(url)


VIEWS = {name: make_action_view(name) for name in SIMPLE}
