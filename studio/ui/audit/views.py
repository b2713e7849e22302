"""The audit log: every change and decision, filterable, newest first, Admin only."""

from django.views.generic import TemplateView

from integrations.audit.models import AuditEntry
from studio.htmx import htmx_partial
from studio.permissions import CapabilityRequiredMixin
from studio.ui import keyset
from studio.ui.audit import objects
from studio.ui.audit.filters import AuditFilterForm

PAGE_SIZE = 50


class AuditListView(CapabilityRequiredMixin, TemplateView):
    capability = "view_audit"

    def get_template_names(self):
        return ["audit/htmx/rows.html" if htmx_partial(self.request) else "audit/list.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        stored_types = AuditEntry.objects.order_by().values_list("object_type", flat=True).distinct()
        form = AuditFilterForm(self.request.GET or None, object_types=objects.type_choices(stored_types))
        entries = AuditEntry.objects.select_related("actor")
        if form.is_bound and form.is_valid():
            entries = form.apply(entries)
        elif form.is_bound:
            entries = entries.none()
        page = keyset.paginate(entries, self.request.GET.get("cursor"), PAGE_SIZE)
        refs = objects.describe(page.rows)
        query = self.request.GET.copy()
        query.pop("cursor", None)
        context.update(
            form=form,
            page=page,
            rows=[(entry, refs[entry.pk]) for entry in page.rows],
            filter_query=query.urlencode(),
        )
        return context

    def render_to_response(self, context, **kwargs):
        # A filter that is not valid answers 400, with the error at its field.
        kwargs.setdefault("status", 400 if context["form"].errors else 200)
        return super().render_to_response(context, **kwargs)
