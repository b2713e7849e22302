"""Bulk actions from the queue: the selected rows or all N matching the filters, confirmed
with the count (and, for a retry, the version) before a background job starts; then the
job's page, whose progress bar polls until the job is done (HTTP 286 stops htmx polling).

The job itself is integrations/runs/inbox/bulk.py: it freezes the matching ids when it
starts, works through them in chunks, and audits the job and every action with its actor."""

from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from integrations.runs.inbox.actions import ActionInvalid
from integrations.runs.inbox.bulk import start_bulk
from integrations.runs.models import BulkJob
from studio.htmx import htmx_partial
from studio.permissions import capability_required
from studio.ui.exceptions import forms, queries
from studio.ui.exceptions.views import list_context

DONE = ("done", "failed")


@capability_required("work_exceptions")
def bulk_start(request):
    """POST on the queue: validate → confirmation page with the count → start the job."""
    form = forms.BulkForm(request.POST)
    context = list_context(request)
    if not form.is_valid() or context["form"].errors:
        context["bulk_form"] = form
        return render(request, "exceptions/list.html", context, status=400)
    filters = bulk_filters(context, form)
    count = queries.queue(filters).count()
    if not form.cleaned_data["confirm"]:
        return render(request, "exceptions/bulk_confirm.html", {**context, "bulk_form": form, "count": count})
    try:
        job = start_bulk(request.user, form.cleaned_data["action"], filters, form.params())
    except ActionInvalid as err:
        form.add_error(err.field if err.field in form.fields else None, err.message)
        return render(request, "exceptions/list.html", {**context, "bulk_form": form}, status=400)
    return redirect("exceptions:job", job_id=job.pk)


def bulk_filters(list_ctx: dict, form: forms.BulkForm) -> dict:
    """What the job acts on: the tab and filters of the page, narrowed to the selected ids."""
    filters = list_ctx["form"].service_filters() if list_ctx["form"].is_bound else {"status": "open,assigned"}
    if form.cleaned_data["scope"] == "selected":
        filters["ids"] = [str(i) for i in form.cleaned_data["ids"]]
    return filters


@require_GET
@capability_required("view_studio")
def bulk_job(request, job_id):
    job = get_object_or_404(BulkJob.objects.select_related("created_by"), pk=job_id)
    context = {"job": job, "done": job.status in DONE, "percent": percent(job)}
    if htmx_partial(request):
        # 286: htmx swaps the final state in and stops polling.
        return render(request, "exceptions/htmx/job_progress.html", context, status=286 if context["done"] else 200)
    return render(request, "exceptions/job.html", context)


def percent(job: BulkJob) -> int:
    return 100 if not job.total else int(job.processed * 100 / job.total)
