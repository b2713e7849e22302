"""Dashboards: the page is a shell (the range picker and one placeholder per panel); each
panel loads itself with htmx when it is shown, so the first paint is HTML only and a slow
panel never holds up the others."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.generic import TemplateView

from studio.permissions import CapabilityRequiredMixin, can
from studio.ui.dashboards.panels import PANELS
from studio.ui.dashboards.window import RANGES, BadRange, window_for

# (panel, heading, what loads it): the top rows load at once, the charts when scrolled to.
LAYOUT = (
    ("top", "Right now", "load"),
    ("business", "Business impact", "load"),
    ("reconciliation", "Where the systems disagree (latest reconciliation)", "load"),
    ("usage", "API consumption per connection (last 24 hours)", "load"),
    ("throughput", "Throughput", "revealed"),
    ("latency", "Run time", "revealed"),
    ("stages", "Failures by stage", "revealed"),
    ("regions", "Invoice exceptions by region", "revealed"),
)


class DashboardsHomeView(CapabilityRequiredMixin, TemplateView):
    capability = "view_studio"
    template_name = "dashboards/home.html"

    def get(self, request, *args, **kwargs):
        try:
            window = window_for(request.GET.get("range"))
        except BadRange as exc:
            context = {"error": str(exc), "ranges": RANGES, "window": window_for(None)}
            return render(request, self.template_name, context, status=400)
        context = self.get_context_data(window=window, ranges=RANGES)
        context["panels"] = [
            {"name": name, "heading": heading, "trigger": trigger, "url": reverse("dashboards:panel", args=[name])}
            for name, heading, trigger in LAYOUT
        ]
        context["can_replay"] = can(request.user, "replay_events")
        return self.render_to_response(context)


class PanelView(CapabilityRequiredMixin, TemplateView):
    capability = "view_studio"

    def get(self, request, name: str):
        if name not in PANELS:
            raise Http404(f"no dashboard panel '{name}'")
        try:
            window = window_for(request.GET.get("range"))
        except BadRange as exc:
            return render(request, "dashboards/panels/error.html", {"error": str(exc)}, status=400)
        context = {"window": window, "name": name, **PANELS[name](window)}
        return render(request, f"dashboards/panels/{name}.html", context)
