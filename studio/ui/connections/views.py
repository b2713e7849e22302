"""Connections: list with status, create/edit from the connector's declared fields,
write-only credentials, Test connection (htmx), maintenance windows, guarded delete.

Reading needs `view_studio`; every change and test needs `manage_connections`; pausing and
resuming deliveries is an operator's job, `replay_events` (integrations/accounts/roles.py)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from integrations.connections import services
from integrations.connections.models import Connection, MaintenanceWindow
from integrations.connectors import registry
from integrations.deliveries import circuit
from integrations.deliveries.holds import pause_connection, resume_connection
from integrations.deliveries.queries import connection_health as health
from studio.htmx import htmx_partial
from studio.permissions import can, capability_required
from studio.ui.connections import sandbox
from studio.ui.connections.forms import ConnectionForm, MaintenanceWindowForm
from studio.ui.connections.queries import get_connection, held_deliveries, usage_summary

_get = get_connection


@capability_required("view_studio")
def connection_list(request):
    connections = list(Connection.objects.defer("credentials_encrypted").prefetch_related("maintenance_windows"))
    rows = [(c, health(c), registry.label_for(c.kind)) for c in connections]
    return render(
        request,
        "connections/list.html",
        {
            "rows": rows,
            "can_manage": can(request.user, "manage_connections"),
        },
    )


@capability_required("manage_connections")
def connection_create(request):
    kind = request.POST.get("kind") or request.GET.get("kind")
    if kind not in registry.CONNECTORS:
        return render(request, "connections/kind_picker.html", {"kinds": registry.kinds()})
    cls = registry.connector_class(kind)
    form = ConnectionForm(request.POST or None, connector_class=cls)
    if request.method == "POST" and form.is_valid():
        try:
            connection = services.create_connection(
                request.user,
                name=form.cleaned_data["name"],
                kind=kind,
                credentials=form.cleaned_data["credentials"],
                **form.service_fields(),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Connection {connection.name} created. Test it to mark it verified.")
            return redirect("connections:detail", name=connection.name)
    return render(request, "connections/form.html", {"form": form, "kind": kind, "kind_label": cls.label})


@capability_required("manage_connections")
def connection_edit(request, name):
    connection = _get(name)
    if connection.kind not in registry.CONNECTORS:
        messages.error(
            request, f"No connector of kind {connection.kind!r} is installed; this connection cannot be edited."
        )
        return redirect("connections:detail", name=name)
    cls = registry.connector_class(connection.kind)
    form = ConnectionForm(request.POST or None, connector_class=cls, instance=connection)
    flows = services.flows_using(connection)
    if request.method == "POST" and form.is_valid() and flows and form.redirects_traffic():
        _require_confirmation(request, form, flows)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_connection(
                request.user, connection, credentials=form.cleaned_data["credentials"], **form.service_fields()
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Connection {connection.name} saved.")
            return redirect("connections:detail", name=connection.name)
    return render(
        request,
        "connections/form.html",
        {
            "form": form,
            "kind": connection.kind,
            "kind_label": cls.label,
            "connection": connection,
            "flows": flows,
        },
    )


def _require_confirmation(request, form, flows) -> None:
    """Repointing a connection that flows use needs a ticked confirmation."""
    if request.POST.get("confirm"):
        return
    retype = (
        " Secrets are never sent back to the page: type the new one again." if form.cleaned_data["credentials"] else ""
    )
    form.add_error(None, f"Flows {', '.join(flows)} use this connection: tick the confirmation to save.{retype}")


def _form_errors(form, exc: ValidationError) -> None:
    for field, errors in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
        form.add_error(field if field in form.fields else None, errors)


@capability_required("view_studio")
def connection_detail(request, name):
    connection = _get(name)
    return render(request, "connections/detail.html", _detail_context(request, connection))


def _detail_context(request, connection, window_form=None):
    cls = registry.connector_class(connection.kind) if connection.kind in registry.CONNECTORS else None
    stored = connection.get_credentials() if connection.has_credentials else {}
    secrets = [(f.display, bool(stored.get(f.name))) for f in (cls.auth_fields if cls else ())]
    config = [
        (f.display, connection.config.get(f.name))
        for f in (cls.config_fields if cls else ())
        if f.type not in ("object", "array") and connection.config.get(f.name) not in (None, "")
    ]
    return {
        "connection": connection,
        "health": health(connection),
        "kind_label": registry.label_for(connection.kind),
        "secrets": secrets,
        "config": config,
        "usage": usage_summary(connection),
        "held": held_deliveries(connection),
        "sandbox": sandbox.panel(request, connection),
        "windows": [(w, services.describe_window(w)) for w in connection.maintenance_windows.all()],
        "window_form": window_form or MaintenanceWindowForm(initial={"timezone": connection.timezone}),
        "can_manage": can(request.user, "manage_connections"),
        "can_pause": can(request.user, "replay_events"),
        "flows": services.flows_using(connection),
        "circuit_limits": circuit.limits_of(connection),
    }


@require_POST
@capability_required("manage_connections")
def connection_test(request, name):
    connection = _get(name)
    attempts = []
    result = services.check_connection(request.user, connection, on_attempt=attempts.append)
    context = {"connection": connection, "result": result, "health": health(connection), "attempts": attempts}
    if htmx_partial(request):
        return render(request, "connections/htmx/test_result.html", context)
    messages.info(request, f"Test: {'OK' if result.ok else 'failed'} ({result.latency_ms} ms) {result.message}")
    return redirect("connections:detail", name=name)


@capability_required("manage_connections")
def connection_delete(request, name):
    connection = _get(name)
    flows, refused = services.flows_using(connection), ""
    if request.method == "POST":
        try:
            services.delete_connection(request.user, connection)
        except services.ConnectionInUse as exc:
            flows, refused = exc.flows, exc.message
        else:
            messages.success(request, f"Connection {name} deleted.")
            return redirect("connections:list")
    elif request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "connections/confirm_delete.html",
        {"connection": connection, "flows": flows, "refused": refused},
        status=409 if refused else 200,
    )


@require_POST
@capability_required("manage_connections")
def window_add(request, name):
    connection = _get(name)
    form = MaintenanceWindowForm(request.POST)
    if form.is_valid():
        try:
            services.add_window(request.user, connection, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            if not htmx_partial(request):
                messages.success(request, "Maintenance window added.")
                return redirect("connections:detail", name=name)
            form = None
    connection = _get(name)
    context = _detail_context(request, connection, window_form=form)
    template = "connections/htmx/windows.html" if htmx_partial(request) else "connections/detail.html"
    # 422: the form comes back with its errors; htmx is configured to swap 422 (base.html).
    status = 422 if form is not None and form.errors else 200
    return render(request, template, context, status=status)


@require_POST
@capability_required("manage_connections")
def window_delete(request, name, window_id):
    window = get_object_or_404(MaintenanceWindow, pk=window_id, connection__name=name)
    services.delete_window(request.user, window)
    if htmx_partial(request):
        return render(request, "connections/htmx/windows.html", _detail_context(request, _get(name)))
    return redirect(reverse("connections:detail", kwargs={"name": name}))


@require_POST
@capability_required("replay_events")
def connection_pause(request, name):
    """Hold (or release) every delivery to the connection; the ledger drains it in order."""
    connection = _get(name)
    if request.POST.get("resume"):
        done = resume_connection(connection, request.user, request.POST.get("reason", ""))
        messages.success(request, "Connection resumed: held deliveries drain in order." if done else "Not paused.")
    else:
        done = pause_connection(connection, request.user, request.POST.get("reason", ""))
        messages.success(request, "Connection paused: deliveries are held." if done else "Already paused.")
    return redirect("connections:detail", name=name)


@require_POST
@capability_required("manage_connections")
def connection_close_circuit(request, name):
    """The operator knows the target is back: stop holding its deliveries now."""
    connection = _get(name)
    if circuit.close(connection, request.user):
        messages.success(request, "Circuit closed: held deliveries drain in order.")
    else:
        messages.info(request, "The circuit was not open.")
    return redirect("connections:detail", name=name)
