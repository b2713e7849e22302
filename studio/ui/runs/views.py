"""Runs: the history (filters in the query string, keyset pages) and one run's page (the
timeline of its steps, payloads, deliveries; polled while the run is active). Read-only:
anyone who may view the studio sees them; acting on a failed run happens in the exceptions."""

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.views.generic import TemplateView, View

from integrations.flows.models import Flow
from integrations.runs.models import StepRun
from studio.htmx import htmx_partial
from studio.permissions import CapabilityRequiredMixin
from studio.ui.runs import detail, history, payloads, statuses
from studio.ui.runs.filters import RunFilterForm

# htmx stops polling when the answer is 286 (and still swaps it in).
STOP_POLLING = 286


def fragment(request) -> bool:
    """An htmx request for part of the page; going back to a page htmx no longer holds in
    its history cache asks for the whole page again."""
    return htmx_partial(request) and not request.htmx.history_restore_request


class RunListView(CapabilityRequiredMixin, TemplateView):
    capability = "view_studio"

    def get_template_names(self):
        if not fragment(self.request):
            return ["runs/list.html"]
        # "Older runs" appends rows; a filter change replaces the whole result.
        return ["runs/htmx/rows.html" if self.request.htmx.target == "runs-more" else "runs/htmx/results.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        flows = list(Flow.objects.order_by("key").values_list("key", "name"))
        query = self.request.GET.copy()
        query.pop("cursor", None)
        form = RunFilterForm(query or None, flows=[(key, name or key) for key, name in flows])
        runs = history.runs()
        if form.is_bound and form.is_valid():
            runs = form.apply(runs)
        elif form.is_bound:
            runs = runs.none()
        rows, next_cursor = history.page(runs, self.request.GET.get("cursor"))
        context.update(
            form=form,
            rows=rows,
            next_cursor=next_cursor,
            filter_query=query.urlencode(),
            any_flow=bool(flows),
            # Row links are built from this once: reversing three URLs per row is a third of the render.
            runs_url=reverse("runs:list"),
        )
        return context

    def render_to_response(self, context, **kwargs):
        # A filter that is not valid answers 400, with the error at its field.
        kwargs.setdefault("status", 400 if context["form"].errors else 200)
        response = super().render_to_response(context, **kwargs)
        response["Vary"] = "HX-Request"
        return response


class RunDetailView(CapabilityRequiredMixin, TemplateView):
    capability = "view_studio"

    def get_template_names(self):
        return ["runs/htmx/live.html" if fragment(self.request) else "runs/detail.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = detail.load_run(kwargs["pk"])
        hold = detail.hold_of(run)
        previous, following = detail.neighbours(run)
        now = timezone.now()
        context.update(
            run=run,
            shown=statuses.run_status(run.status, held=hold is not None),
            hold=hold,
            active=statuses.is_active(run.status),
            duration=history.duration(run, now),
            previous_id=previous,
            next_id=following,
            steps=detail.timeline(run),
            error=run.error or {},
        )
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if fragment(self.request) and not context["active"]:
            response.status_code = STOP_POLLING
        response["Vary"] = "HX-Request"
        return response


class StepView(CapabilityRequiredMixin, TemplateView):
    """One step's Input | Output | Diff and deliveries, loaded when its row is opened."""

    capability = "view_studio"
    template_name = "runs/htmx/step.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = detail.load_run(kwargs["pk"])
        context.update(run=run, row=detail.step_row(run, kwargs["step"]))
        return context


class PayloadView(CapabilityRequiredMixin, View):
    """A step's whole input or output, secrets masked: into the page ("load full") or as a file."""

    capability = "view_studio"

    def get(self, request, pk: int, step: int, side: str):
        if side not in payloads.SIDES:
            raise Http404("no such payload")
        value = StepRun.objects.filter(run_id=pk, pk=step).values_list(side, flat=True).first()
        if value is None and not StepRun.objects.filter(run_id=pk, pk=step).exists():
            raise Http404("no such step")
        text = payloads.full(value)
        if request.GET.get("download"):
            response = HttpResponse(text, content_type="application/json; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="run-{pk}-step-{step}-{side}.json"'
            return response
        return HttpResponse(
            f'<pre class="payload" tabindex="0" data-testid="payload-full">{escape(text)}</pre>',
            content_type="text/html; charset=utf-8",
        )
