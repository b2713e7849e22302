"""/crosswalk/ownership/: which system owns each field of a canonical object. Everyone who
can open the studio reads it; an Analyst or Admin changes an owner (with a reason, audited)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from integrations.canonical import registry
from integrations.crosswalk import ownership
from integrations.crosswalk.systems import System
from studio.permissions import CapabilityRequiredMixin, can

EDIT = "publish_flows"


class OwnershipView(CapabilityRequiredMixin, TemplateView):
    template_name = "crosswalk/ownership.html"

    def chosen_object(self) -> str:
        wanted = self.request.GET.get("object") or self.request.POST.get("object") or "worker"
        return wanted if wanted in registry.list_objects() else "worker"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        object = self.chosen_object()
        context.update(
            object=object,
            objects=registry.list_objects(),
            rules=ownership.rules_for(object),
            systems=[("", "Nobody (any system may write)"), *System.choices],
            labels=dict(System.choices),
            can_edit=can(self.request.user, EDIT),
        )
        return context

    def post(self, request, *args, **kwargs):
        if not can(request.user, EDIT):
            return self.render_to_response(self.get_context_data(denied=True), status=403)
        object, field = self.chosen_object(), request.POST.get("field", "")
        try:
            if request.POST.get("reset"):
                ownership.reset_owner(request.user, object, field)
            else:
                ownership.set_owner(request.user, object, field, request.POST.get("owner", ""),
                                    reason=request.POST.get("reason", ""))  # fmt: skip
        except ownership.RuleInvalid as err:
            context = self.get_context_data(error=err, error_field=field)
            return self.render_to_response(context, status=400)
        owner = ownership.owner_of(object, field) if field != ownership.WHOLE else "see table"
        messages.success(request, f"{object}.{field}: owner is now {owner.upper() or 'nobody'}.")
        return redirect(reverse("crosswalk:ownership") + f"?object={object}")
