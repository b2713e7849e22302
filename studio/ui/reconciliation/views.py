"""/reconciliation/: per job (workers, projects, hours) the latest run's matched / missing /
mismatched counts and when it ran, a button to run it now, and a drill-down per run to the
rows behind each count, where a person resolves what needs one (reason required; audited)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView, View

from integrations.reconcile import queries, services
from integrations.reconcile.models import Job, Outcome, ReconciliationRun, Result, ResultState
from studio.htmx import htmx_partial
from studio.permissions import CapabilityRequiredMixin, can

WORK = "work_exceptions"
PAGE_SIZE = 100


class HomeView(CapabilityRequiredMixin, TemplateView):
    template_name = "reconciliation/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        latest = queries.latest_runs()
        context.update(
            jobs=[(value, label, latest[value]) for value, label in Job.choices],
            recent=list(ReconciliationRun.objects.all()[:20]),
            can_run=can(self.request.user, WORK),
        )
        return context


class StartView(CapabilityRequiredMixin, View):
    """Runs the job within the request: the sandboxes answer in seconds; the nightly schedule
    runs the same service on a worker for real systems."""

    capability = WORK
    http_method_names = ["post"]

    def post(self, request):
        job = request.POST.get("job", "")
        try:
            run = services.run_job(job, actor=request.user)
        except services.JobInvalid as err:
            messages.error(request, f"Not run — {err.field}: {err.message}")
            return redirect(reverse("reconciliation:home"))
        if run.status == "failed":
            messages.error(request, f"The {job} reconciliation failed: {run.error}")
        else:
            messages.success(request, f"{run.get_job_display()}: {run.matched} matched, {run.missing} missing, "
                                      f"{run.mismatched} mismatched.")  # fmt: skip
        return redirect(reverse("reconciliation:run", args=[run.pk]))


class RunView(CapabilityRequiredMixin, TemplateView):
    def get_template_names(self):
        return ["reconciliation/htmx/results.html" if htmx_partial(self.request) else "reconciliation/run.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = ReconciliationRun.objects.filter(pk=kwargs["pk"]).first()
        if run is None:
            raise Http404("No such reconciliation run.")
        outcome = self.request.GET.get("outcome", "")
        outcome = outcome if outcome in Outcome.values else ""
        results = Result.objects.filter(run=run)
        if outcome:
            results = results.filter(outcome=outcome)
        elif self.request.GET.get("all") != "1":
            results = results.exclude(outcome=Outcome.MATCHED)
        after = self.request.GET.get("after", "")
        if after:
            results = results.filter(key__gt=after)
        rows = list(results.order_by("key", "id")[: PAGE_SIZE + 1])
        context.update(
            run=run,
            outcome=outcome,
            show_all=self.request.GET.get("all") == "1",
            results=rows[:PAGE_SIZE],
            next_after=rows[PAGE_SIZE - 1].key if len(rows) > PAGE_SIZE else "",
            can_work=can(self.request.user, WORK),
            open_state=ResultState.OPEN,
        )
        return context


class ResolveView(CapabilityRequiredMixin, View):
    capability = WORK
    http_method_names = ["post"]

    def post(self, request, pk):
        result = Result.objects.filter(pk=pk).first()
        if result is None:
            raise Http404("No such result.")
        back = reverse("reconciliation:run", args=[result.run_id]) + f"?outcome={result.outcome}"
        try:
            services.resolve_result(result, request.user, request.POST.get("reason", ""))
        except services.JobInvalid as err:
            messages.error(request, f"Not resolved — {err.field}: {err.message}")
            return redirect(back)
        messages.success(request, f"Resolved: {result.label}.")
        return redirect(back)
