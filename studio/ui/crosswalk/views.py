"""The crosswalk pages: the objects, then one page per object — one row per canonical id
with a column per system; search by any system's id; filters missing-in-X, conflict and
orphan; link and unlink with a reason (audited); CSV export of the current filter."""

import csv

from django.contrib import messages
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView, View

from integrations.canonical import registry
from integrations.crosswalk import queries
from integrations.crosswalk.models import CrosswalkLink
from integrations.crosswalk.services import LinkInvalid, link_by_hand, unlink
from studio.htmx import htmx_partial
from studio.permissions import CapabilityRequiredMixin, can

PAGE_SIZE = 50
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def known_object(object: str) -> str:
    if object not in registry.list_objects():
        raise Http404("No such canonical object.")
    return object


def filters_from(request) -> queries.Filters:
    get = request.GET
    return queries.Filters(
        q=get.get("q", "").strip()[:255],
        missing=get.get("missing", "").strip()[:64],
        conflict=get.get("conflict") == "1",
        orphan=get.get("orphan") == "1",
    )


class IndexView(CapabilityRequiredMixin, TemplateView):
    template_name = "crosswalk/index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = queries.object_counts()
        context.update(
            objects=[(name, counts.get(name, 0)) for name in registry.list_objects()],
            pending=queries.pending_reviews().count(),
        )
        return context


class ObjectView(CapabilityRequiredMixin, TemplateView):
    def get_template_names(self):
        return ["crosswalk/htmx/rows.html" if htmx_partial(self.request) else "crosswalk/object.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        object = known_object(kwargs["object"])
        filters = filters_from(self.request)
        systems = queries.systems_of(object)
        ids, next_cursor = queries.page(object, filters, self.request.GET.get("after", ""), PAGE_SIZE)
        links = queries.links_of(object, ids)
        query = self.request.GET.copy()
        query.pop("after", None)
        context.update(
            object=object,
            filters=filters,
            systems=systems,
            rows=[(cid, [links[cid].get(s) for s in systems]) for cid in ids],
            next_cursor=next_cursor,
            filter_query=query.urlencode(),
            can_link=can(self.request.user, "work_exceptions"),
            pending=queries.pending_reviews(object).count(),
        )
        return context


class ExportView(CapabilityRequiredMixin, View):
    http_method_names = ["get", "head"]

    def get(self, request, object):
        object = known_object(object)
        filters = filters_from(request)
        systems = queries.systems_of(object)
        response = StreamingHttpResponse(csv_lines(object, filters, systems), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="crosswalk-{object}.csv"'
        return response


class _Line:
    def write(self, text: str) -> str:
        return text


def safe_cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_lines(object: str, filters, systems: list[str]):
    writer = csv.writer(_Line())
    yield writer.writerow(["canonical_id", *systems])
    for canonical, links in queries.every_row(object, filters):
        cells = [links[s].external_id if s in links else "" for s in systems]
        yield writer.writerow([safe_cell(c) for c in (canonical, *cells)])


class LinkView(CapabilityRequiredMixin, View):
    capability = "work_exceptions"
    http_method_names = ["post"]

    def post(self, request, object):
        object = known_object(object)
        data = request.POST
        try:
            made = link_by_hand(request.user, object, data.get("canonical_id", "").strip(),
                                data.get("system", "").strip(), data.get("external_id", "").strip(),
                                data.get("reason", ""))  # fmt: skip
        except LinkInvalid as err:
            messages.error(request, f"Not linked — {err.field.replace('_', ' ')}: {err.message}")
            return redirect(reverse("crosswalk:object", args=[object]) + "#link-form")
        messages.success(request, f"Linked {made.system} id {made.external_id} to {made.canonical_id}.")
        return redirect(reverse("crosswalk:object", args=[object]) + f"?q={made.canonical_id}")


class UnlinkView(CapabilityRequiredMixin, View):
    capability = "work_exceptions"
    http_method_names = ["post"]

    def post(self, request, object, pk):
        object = known_object(object)
        link = CrosswalkLink.objects.filter(pk=pk, object=object).first()
        if link is None:
            raise Http404("No such link.")
        back = reverse("crosswalk:object", args=[object]) + f"?q={link.canonical_id}"
        try:
            unlink(request.user, link, request.POST.get("reason", ""))
        except LinkInvalid as err:
            messages.error(request, f"Not unlinked — {err.field}: {err.message}")
            return redirect(back)
        messages.success(request, f"Unlinked {link.system} id {link.external_id} from {link.canonical_id}.")
        return redirect(back)
