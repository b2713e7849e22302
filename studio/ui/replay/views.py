"""/replay/: choose stored events, see what replaying them would write (a dry run), then
replay them for real and follow the new runs. Replays go through the same delivery ledger
(integrations/triggers/manual.py), so what was posted is never posted twice.

Anyone who may view the studio sees the page and the matching events; the dry run and the
replay need the `replay_events` capability (Operator, Admin)."""

from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.http import require_POST

from integrations.runs.choices import RunStatus, Trigger
from integrations.runs.models import Run
from integrations.runs.preview import PREVIEW_LIMIT
from integrations.triggers.manual import REPLAY_LIMIT, ReplayInvalid, replay_events
from studio.permissions import CapabilityRequiredMixin, can, capability_required
from studio.ui.dashboards import links
from studio.ui.replay.forms import ReplayForm
from studio.ui.replay.preview import dry_run
from studio.ui.replay.selection import selected_events

SHOWN = 50
# Still moving: the progress keeps polling while any replayed run is in one of these.
MOVING = (
    RunStatus.QUEUED,
    RunStatus.RUNNING,
    RunStatus.WAITING_DELIVERY,
    RunStatus.WAITING_BATCH,
    RunStatus.WAITING_CHUNKS,
)


class ReplayView(CapabilityRequiredMixin, View):
    capability = "view_studio"

    def get(self, request):
        form = ReplayForm(request.GET or None)
        context = {"form": form, "can_replay": can(request.user, "replay_events"), "limit": REPLAY_LIMIT}
        if form.is_bound and form.is_valid():
            events = selected_events(form.cleaned_data, form.chosen_flow)
            context.update(total=events.count(), events=events[:SHOWN], shown=SHOWN, query=form.query())
        status = 400 if form.is_bound and form.errors else 200
        return render(request, "replay/home.html", context, status=status)


@method_decorator([capability_required("replay_events"), require_POST], name="dispatch")
class PreviewView(View):
    def post(self, request):
        form = ReplayForm(request.POST)
        if not form.is_valid():
            return render(request, "replay/htmx/errors.html", {"form": form}, status=400)
        events = selected_events(form.cleaned_data, form.chosen_flow)
        total = events.count()
        context = {
            "form": form,
            "summary": dry_run(events, flow=form.chosen_flow),
            "total": total,
            "previewed": min(total, PREVIEW_LIMIT),
            "limit": REPLAY_LIMIT,
            "query": form.query(),
        }
        return render(request, "replay/htmx/preview.html", context)


@method_decorator([capability_required("replay_events"), require_POST], name="dispatch")
class RunView(View):
    def post(self, request):
        form = ReplayForm(request.POST)
        if not form.is_valid():
            return render(request, "replay/htmx/errors.html", {"form": form}, status=400)
        events = selected_events(form.cleaned_data, form.chosen_flow)
        total = events.count()
        expected = request.POST.get("expected", "")
        if not expected.isdigit() or int(expected) != total:
            error = (
                f"expected: the selection now matches {total} events, not {expected or 'none'}; run the dry run again."
            )
            return render(request, "replay/htmx/errors.html", {"errors": [error]}, status=400)
        try:
            runs = replay_events(events, request.user, flow=form.chosen_flow)
        except ReplayInvalid as exc:
            return render(request, "replay/htmx/errors.html", {"errors": [f"{exc.field}: {exc.message}"]}, status=400)
        if not runs:
            return render(request, "replay/htmx/errors.html", {"errors": ["No flow takes these events: nothing ran."]})
        ids = [r.pk for r in runs]
        url = f"{reverse('replay:progress')}?first={min(ids)}&last={max(ids)}"
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Redirect": url})
        return HttpResponse(status=303, headers={"Location": url})


class ProgressView(CapabilityRequiredMixin, View):
    """The runs one replay started (this person's replay runs between two ids), polled
    every 2 seconds until none is still moving, then answered with 286 to stop."""

    capability = "view_studio"

    def get(self, request):
        bounds = {name: request.GET.get(name, "") for name in ("first", "last")}
        bad = [name for name, value in bounds.items() if not value.isdigit()]
        if bad:
            return HttpResponse(f"{bad[0]}: a run id is required", status=400, content_type="text/plain")
        first, last = int(bounds["first"]), int(bounds["last"])
        runs = Run.objects.filter(pk__range=(first, last), trigger=Trigger.REPLAY, created_by=request.user)
        counts = dict(runs.order_by().values("status").annotate(n=Count("id")).values_list("status", "n"))
        total = sum(counts.values())
        moving = sum(n for status, n in counts.items() if status in MOVING)
        context = {
            "total": total,
            "done": total - moving,
            "moving": moving,
            "counts": [
                {"status": s, "label": RunStatus(s).label, "n": n, "url": links.runs(trigger=Trigger.REPLAY, status=s)}
                for s, n in sorted(counts.items())
            ],
            "poll_url": request.get_full_path(),
            "first": first,
            "last": last,
        }
        template = "replay/htmx/progress.html" if request.htmx else "replay/progress.html"
        status = 286 if request.htmx and not moving else 200
        return render(request, template, context, status=status)
