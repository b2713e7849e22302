"""The overview a signed-in user lands on: who they are, what their role lets them do,
and where to go. Any signed-in user may open it, including one without a role yet."""

from django.views.generic import TemplateView

from integrations.accounts.roles import CAPABILITIES, ROLES
from studio.permissions import can, visible_sections
from studio.ui.home.overview import at_a_glance


class HomeView(TemplateView):
    template_name = "home/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["roles"] = [g.name for g in user.groups.all() if g.name in ROLES]
        context["capabilities"] = [desc for code, (desc, _) in CAPABILITIES.items() if can(user, code)]
        context["sections"] = visible_sections(user)
        context["tiles"] = at_a_glance(user)
        return context
