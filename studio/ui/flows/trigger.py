"""The trigger panel: what starts the flow, for every trigger the engine has.

- event: a connection and an event type (blank = any);
- webhook: an event trigger on a connection that receives signed webhooks; the panel shows
  the address to give the vendor and takes a new signing secret (write-only: never shown,
  stored encrypted on the connection, blank keeps the current one);
- schedule: cron and time zone, with the next five run times in that zone;
- poll: connection, object, cron, time zone, page size, and the watermarks with a reset;
- manual: nothing.

Saving puts the trigger into the draft (flows/editing.set_trigger); the engine's errors come
back at the field they name (trigger.cron → the cron field)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from integrations.audit import services as audit
from integrations.connections import services as connections
from integrations.connections.models import Connection
from integrations.flows import checks, editing
from integrations.flows.models import Flow, Watermark
from integrations.flows.services import draft_of
from studio.htmx import htmx_partial
from studio.permissions import can, capability_required
from studio.ui.flows import editor
from studio.ui.flows.cron_times import ScheduleInvalid, next_times

MODES = (
    ("event", "Event from a connection"),
    ("webhook", "Webhook (the vendor calls us)"),
    ("schedule", "Schedule (cron)"),
    ("poll", "Poll a connection"),
    ("manual", "Manual (a person or the API starts it)"),
)
WEBHOOK_KINDS = ("generic_webhook",)
TEXT_MAX = 200
SECRET_MAX = 500


def mode_of(trigger: dict, kinds: dict[str, str]) -> str:
    kind = trigger.get("type") if isinstance(trigger, dict) else None
    if kind == "event" and kinds.get(trigger.get("connection")) in WEBHOOK_KINDS:
        return "webhook"
    return kind if kind in ("event", "schedule", "poll", "manual") else "manual"


def _text(post, name: str) -> str:
    return (post.get(name) or "").strip()[: TEXT_MAX + 1]


def trigger_from(post) -> tuple[dict, dict[str, str]]:
    """(trigger, input errors). Input errors stop the save; engine errors come after it."""
    mode = post.get("mode")
    errors: dict[str, str] = {}
    if mode not in dict(MODES):
        return {}, {"mode": "pick how the flow starts"}
    for name in ("connection", "event", "object", "cron", "timezone", "page_size", "signing_secret"):
        if len(_text(post, name)) > TEXT_MAX and name != "signing_secret":
            errors[name] = f"at most {TEXT_MAX} characters"
        if "\x00" in (post.get(name) or ""):
            errors[name] = "contains a NUL character"
    if mode == "manual":
        return {"type": "manual"}, errors
    if mode in ("event", "webhook"):
        trigger = {"type": "event", "connection": _text(post, "connection")}
        if _text(post, "event"):
            trigger["event"] = _text(post, "event")
        if not trigger["connection"]:
            errors["connection"] = "pick the connection the events come from"
        return trigger, errors
    trigger = {"type": mode, "cron": _text(post, "cron")}
    if _text(post, "timezone"):
        trigger["timezone"] = _text(post, "timezone")
    if mode == "poll":
        trigger.update(connection=_text(post, "connection"), object=_text(post, "object"))
        size = _text(post, "page_size")
        if size:
            if not size.isdigit() or not 1 <= int(size) <= 1000:
                errors["page_size"] = "a whole number from 1 to 1000"
            else:
                trigger["page_size"] = int(size)
    return trigger, errors


def _context(request, flow: Flow, *, form_errors=None, posted=None, saved=False) -> dict:
    draft = draft_of(flow)
    definition = draft.definition if isinstance(draft.definition, dict) else {}
    trigger = definition.get("trigger") if isinstance(definition.get("trigger"), dict) else {}
    conns = list(Connection.objects.order_by("name").values_list("name", "kind"))
    kinds = dict(conns)
    engine_errors = {}
    digest = draft.content_hash if definition is draft.definition else None
    for error in checks.problems(definition, known=set(kinds), digest=digest):
        field = error.get("field") or ""
        if field.startswith("trigger"):
            engine_errors.setdefault(field.removeprefix("trigger").lstrip(".") or "mode", error["message"])
    values = dict(trigger)
    mode = mode_of(trigger, kinds)
    if posted is not None:  # a refused form shows what was typed
        values = {k: posted.get(k, "") for k in ("connection", "event", "object", "cron", "timezone", "page_size")}
        mode = posted.get("mode") if posted.get("mode") in dict(MODES) else mode
    context = {
        "flow": flow,
        "draft": draft,
        "mode": mode,
        "modes": MODES,
        "values": values,
        "connections": conns,
        "errors": {**engine_errors, **(form_errors or {})},
        "saved": saved,
        "can_edit": can(request.user, "edit_flows"),
        "can_manage_connections": can(request.user, "manage_connections"),
        "times": [],
        "timezone": values.get("timezone") or "UTC",
    }
    if mode in ("schedule", "poll") and values.get("cron"):
        context["times"], problem = _times(values.get("cron"), values.get("timezone"))
        if problem:
            context["errors"].setdefault(problem[0], problem[1])
    if mode in ("event", "webhook") and values.get("connection"):
        # A draft may name a connection that cannot exist (drafts save with errors): no
        # address to show then, and the field carries the validation message.
        try:
            context["webhook_url"] = request.build_absolute_uri(reverse("hooks:receive", args=[values["connection"]]))
        except NoReverseMatch:
            context["webhook_url"] = ""
        context["has_secret"] = _has_secret(values["connection"])
    if mode == "poll":
        context["watermarks"] = list(flow.watermarks.select_related("connection").order_by("object"))
    return context


def _has_secret(name: str) -> bool:
    conn = Connection.objects.filter(name=name).first()
    return bool(conn and conn.get_credentials().get("webhook_secret"))


def _times(cron, tz) -> tuple[list, tuple[str, str] | None]:
    try:
        return next_times(cron, tz), None
    except ScheduleInvalid as exc:
        return [], ("cron", str(exc))
    except ValueError as exc:
        return [], ("timezone", str(exc))


def _render(request, flow, status=200, **kwargs):
    context = _context(request, flow, **kwargs)
    response = render(request, "flows/panels/trigger.html", context, status=status)
    if htmx_partial(request) and request.method == "POST":
        head = editor.context(request, flow, tab="editor")
        head.update(selected="trigger", oob=True)
        response.content += render(request, "flows/htmx/step_list.html", head).content
    return response


@capability_required("view_studio")
def trigger_panel(request, key):
    flow = get_object_or_404(Flow, key=key)
    if request.method != "POST":
        if not htmx_partial(request):
            return redirect(f"{reverse('flows:editor', args=[flow.key])}?step=trigger")
        return _render(request, flow)
    if not can(request.user, "edit_flows"):
        return render(request, "403.html", status=403)
    with_nul = next((name for name, value in request.POST.items() if "\x00" in value), None)
    if with_nul:  # PostgreSQL refuses a NUL in a query or a row: say so at the field
        posted = request.POST.copy()
        for name in posted:
            posted.setlist(name, [v.replace("\x00", "") for v in posted.getlist(name)])
        return _render(request, flow, status=422, form_errors={with_nul: "contains a NUL character"}, posted=posted)
    trigger, errors = trigger_from(request.POST)
    secret = request.POST.get("signing_secret") or ""
    if len(secret) > SECRET_MAX:
        errors["signing_secret"] = f"at most {SECRET_MAX} characters"
    if errors:
        return _render(request, flow, status=422, form_errors=errors, posted=request.POST)
    try:
        with transaction.atomic():
            editing.set_trigger(flow, request.user, trigger, base_hash=request.POST.get("base") or None)
            if secret and request.POST.get("mode") == "webhook":
                _store_secret(request, trigger["connection"], secret)
    except editing.EditError as exc:
        return _render(request, flow, status=422, form_errors={"mode": exc.message}, posted=request.POST)
    except SecretRefused as exc:
        return _render(request, flow, status=422, form_errors={"signing_secret": str(exc)}, posted=request.POST)
    if not htmx_partial(request):
        return redirect(f"{reverse('flows:editor', args=[flow.key])}?step=trigger")
    return _render(request, flow, saved=True)


class SecretRefused(Exception):
    pass


def _store_secret(request, name: str, secret: str) -> None:
    if not can(request.user, "manage_connections"):
        raise SecretRefused("changing a connection's signing secret needs the right to manage connections")
    conn = Connection.objects.filter(name=name).first()
    if conn is None:
        raise SecretRefused(f"connection '{name}' does not exist")
    try:
        connections.update_connection(request.user, conn, credentials={"webhook_secret": secret})
    except ValidationError as exc:
        raise SecretRefused("; ".join(exc.messages)) from exc


@capability_required("view_studio")
def cron_preview(request, key):
    """The next five times while the cron is typed (hx-get, debounced)."""
    get_object_or_404(Flow, key=key)
    cron = (request.GET.get("cron") or "")[:TEXT_MAX]
    tz = (request.GET.get("timezone") or "")[:64] or "UTC"
    times, problem = _times(cron, tz) if cron.strip() else ([], ("cron", "type a cron expression"))
    return render(request, "flows/htmx/cron_times.html", {"times": times, "problem": problem, "timezone": tz})


@require_POST
@capability_required("edit_flows")
def reset_watermark(request, key, pk):
    """Forget where the poll got to: its next tick reads from the beginning (events already
    stored are deduplicated, so nothing runs twice)."""
    flow = get_object_or_404(Flow, key=key)
    mark = get_object_or_404(Watermark, pk=pk, flow=flow)
    with transaction.atomic():
        before = {"position": mark.position, "cursor": mark.cursor}
        mark.position, mark.cursor = "", ""
        mark.save(update_fields=["position", "cursor", "updated_at"])
        audit.record(request.user, "flow.watermark.reset", flow, before=before, after={"position": "", "cursor": ""})
    if htmx_partial(request):
        return _render(request, flow)
    return redirect(f"{reverse('flows:editor', args=[flow.key])}?step=trigger")
