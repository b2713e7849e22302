"""The audit log: every change and decision, filterable, newest first, Admin only."""

from django.views.generic import TemplateView

from integrations.audit.models import AuditEntry
from studio.htmx import htmx_partial
from studio.permissions import CapabilityRequiredMixin
from studio.ui import keyset
from studio.ui.audit.filters import AuditFilterForm

PAGE_SIZE = 50


class AuditListView(CapabilityRequiredMixin, TemplateView):
    capability = "view_audit"

    def get_template_names(self):
        return ["audit/htmx/rows.html" if htmx_partial(self.request) else "audit/list.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = AuditFilterForm(self.request.GET or None)
        entries = AuditEntry.objects.select_related("actor")
        if form.is_bound and form.is_valid():
            entries = form.apply(entries)
        elif form.is_bound:
            entries = entries.none()
        page = keyset.paginate(entries, self.request.GET.get("cursor"), PAGE_SIZE)
        query = self.request.GET.copy()
        query.pop("cursor", None)
        context.update(form=form, page=page, filter_query=query.urlencode())
        return context
