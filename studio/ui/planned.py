"""Pages of areas whose runtime is still being built: they say plainly what will appear
there and offer no control that pretends to work. An area replaces its PlannedPageView
with real views when its models and services land."""

from django.views.generic import TemplateView

from studio.permissions import CapabilityRequiredMixin


class PlannedPageView(CapabilityRequiredMixin, TemplateView):
    # Anonymous users never get here: LoginRequiredMiddleware sends them to the login page.
    capability = "view_studio"
    title = ""
    summary = ""
    planned: tuple[str, ...] = ()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=self.title, summary=self.summary, planned=self.planned)
        return context
