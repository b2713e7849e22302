"""The audit log: every change and decision, filterable, newest first, Admin only.

Read-only by construction: these views answer GET alone (405 for anything else), and no
page, API endpoint or admin registration writes an entry except services.record."""

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.generic import TemplateView, View

from integrations.audit import services as audit
from integrations.audit.models import AuditEntry
from integrations.audit.reading import field_changes, masked_changes
from studio.htmx import htmx_partial
from studio.permissions import CapabilityRequiredMixin
from studio.ui import keyset
from studio.ui.audit import export, objects
from studio.ui.audit.filters import AuditFilterForm

PAGE_SIZE = 50


def filter_form(request) -> AuditFilterForm:
    stored_types = AuditEntry.objects.order_by().values_list("object_type", flat=True).distinct()
    return AuditFilterForm(request.GET or None, object_types=objects.type_choices(stored_types))


def filtered(form: AuditFilterForm):
    """The entries the form selects; none while a filter is not valid."""
    entries = AuditEntry.objects.select_related("actor")
    if form.is_bound and form.is_valid():
        return form.apply(entries)
    return entries.none() if form.is_bound else entries


def filter_query(request) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    return query.urlencode()


class AuditListView(CapabilityRequiredMixin, TemplateView):
    capability = "view_audit"
    http_method_names = ["get", "head"]

    def get_template_names(self):
        return ["audit/htmx/rows.html" if htmx_partial(self.request) else "audit/list.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = filter_form(self.request)
        page = keyset.paginate(filtered(form), self.request.GET.get("cursor"), PAGE_SIZE)
        refs = objects.describe(page.rows)
        context.update(
            form=form,
            page=page,
            rows=[(entry, refs[entry.pk], masked_changes(entry.changes)) for entry in page.rows],
            filter_query=filter_query(self.request),
        )
        return context

    def render_to_response(self, context, **kwargs):
        # A filter that is not valid answers 400, with the error at its field.
        kwargs.setdefault("status", 400 if context["form"].errors else 200)
        return super().render_to_response(context, **kwargs)


class AuditDetailView(CapabilityRequiredMixin, TemplateView):
    capability = "view_audit"
    http_method_names = ["get", "head"]
    template_name = "audit/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        entry = AuditEntry.objects.select_related("actor").filter(pk=kwargs["pk"]).first()
        if entry is None:
            raise Http404("No audit entry with this id.")
        context.update(entry=entry, ref=objects.describe([entry])[entry.pk], changes=field_changes(entry.changes))
        return context


class AuditExportView(CapabilityRequiredMixin, View):
    """GET /audit/export.csv|json?<the list's filters>: the whole filtered log, streamed.
    The export itself is audited (who took which slice of the log)."""

    capability = "view_audit"
    http_method_names = ["get", "head"]
    FORMATS = {
        "csv": ("text/csv; charset=utf-8", export.csv_lines),
        "json": ("application/json", export.json_chunks),
    }

    def get(self, request, fmt: str):
        form = filter_form(request)
        if form.is_bound and not form.is_valid():
            errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in form.errors.items())
            return HttpResponse(f"Bad filter — {errors}\n", status=400, content_type="text/plain; charset=utf-8")
        content_type, render = self.FORMATS[fmt]
        query = filter_query(request)
        audit.record(
            request.user,
            "audit.exported",
            object_type="audit.auditentry",
            message=f"{fmt.upper()} export" + (f" filtered by {query}" if query else " of the whole log"),
            changes={},
        )
        response = StreamingHttpResponse(render(filtered(form)), content_type=content_type)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
        response["Cache-Control"] = "no-store"
        return response
