"""/crosswalk/review/: uncertain first-contact matches waiting for a person — link the
record to the identity it may be, or keep them apart (a reason each time; audited)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from integrations.crosswalk import matching, queries
from integrations.crosswalk.models import MatchCandidate
from integrations.crosswalk.services import LinkInvalid
from studio.permissions import CapabilityRequiredMixin, can

DECIDE = "work_exceptions"


class ReviewView(CapabilityRequiredMixin, TemplateView):
    template_name = "crosswalk/review.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(pending=list(queries.pending_reviews()[:200]), can_decide=can(self.request.user, DECIDE))
        return context

    def post(self, request, *args, **kwargs):
        if not can(request.user, DECIDE):
            return self.render_to_response(self.get_context_data(), status=403)
        candidate = MatchCandidate.objects.filter(pk=request.POST.get("candidate") or 0).first()
        if candidate is None:
            messages.error(request, "That match is no longer in the queue.")
            return redirect(reverse("crosswalk:review"))
        accept = request.POST.get("decision") == "accept"
        try:
            matching.decide(request.user, candidate, accept, request.POST.get("reason", ""))
        except LinkInvalid as err:
            context = self.get_context_data(error=err, error_candidate=candidate.pk)
            return self.render_to_response(context, status=400)
        verb = "Linked" if accept else "Kept apart"
        messages.success(request, f"{verb}: {candidate.system} id {candidate.external_id}.")
        return redirect(reverse("crosswalk:review"))
