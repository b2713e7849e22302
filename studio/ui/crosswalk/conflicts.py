"""/crosswalk/conflicts/: ownership conflicts the runtime held back — each field with its
owner, the owner's value and the value that was not written; resolved by keeping the
owner's value, taking the other, or changing the rule (reason required; audited)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from integrations.reconcile import conflicts
from integrations.runs.choices import ACTIVE_EXCEPTION
from integrations.runs.inbox.actions import ActionInvalid
from integrations.runs.models import RunException
from studio.permissions import CapabilityRequiredMixin, can

WORK = "work_exceptions"


def open_conflicts():
    active = RunException.objects.filter(classification=conflicts.CONFLICT, status__in=ACTIVE_EXCEPTION)
    return active.select_related("flow", "run").order_by("-last_seen", "-id")


class ConflictsView(CapabilityRequiredMixin, TemplateView):
    template_name = "crosswalk/conflicts.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(conflicts=list(open_conflicts()[:200]), can_work=can(self.request.user, WORK))
        return context

    def post(self, request, *args, **kwargs):
        if not can(request.user, WORK):
            return self.render_to_response(self.get_context_data(), status=403)
        exc = open_conflicts().filter(pk=request.POST.get("exception") or 0).first()
        if exc is None:
            messages.error(request, "That conflict is no longer open.")
            return redirect(reverse("crosswalk:conflicts"))
        try:
            conflicts.resolve(exc, request.user, request.POST.get("choice", ""), request.POST.get("reason", ""))
        except (conflicts.ResolutionInvalid, ActionInvalid) as err:
            context = self.get_context_data(error=err, error_exception=exc.pk)
            return self.render_to_response(context, status=400)
        messages.success(request, f"Conflict {exc.pk} resolved.")
        return redirect(reverse("crosswalk:conflicts"))
