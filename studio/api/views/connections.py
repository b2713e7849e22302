"""Connections: GET /api/v1/connections/ and /<name>/ (with the connector's objects),
POST (create), PATCH, DELETE (refused while flows use it), POST /<name>/test,
POST /<name>/close-circuit/;
GET /api/v1/connectors/ (kinds with their fields and objects).

Writes are validated by the same form as the UI (the connector's declared fields);
credentials are write-only: sent under "credentials", never returned."""

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.connections import services
from integrations.connections.models import Connection, MaintenanceWindow
from integrations.connectors import registry
from integrations.deliveries import circuit
from integrations.deliveries.queries import connection_health as health
from studio.api.json_body import require_object
from studio.api.serializers.connections import (
    CheckResultSerializer,
    ConnectionSerializer,
    ConnectorKindSerializer,
    MaintenanceWindowSerializer,
    connection_objects,
    connector_description,
)
from studio.permissions import HasCapability
from studio.ui.connections.forms import CIRCUIT_KEYS, CONFIG, SECRET, ConnectionForm, MaintenanceWindowForm

WRITABLE = (
    "name",
    "label",
    "environment",
    "base_url",
    "allowed_hosts",
    "rate_limit_requests",
    "rate_limit_interval_seconds",
    "max_concurrency",
    "max_attempts",
    "timezone",
    *CIRCUIT_KEYS,  # stored in `config`; null = the global default
)
KNOWN_KEYS = {*WRITABLE, "kind", "config", "credentials", "confirm"}


CREATE_DEFAULTS = {
    "environment": "sandbox",
    "rate_limit_interval_seconds": 1,
    "max_concurrency": 4,
    "max_attempts": 8,
    "timezone": "UTC",
}


def _form_data(payload: dict, instance=None, connector_class=None) -> dict:
    """The API body as the connection form's input, so both share one validation path."""
    unknown = sorted(set(payload) - KNOWN_KEYS)
    if unknown:
        raise ValidationError({key: ["Unknown field."] for key in unknown})
    data: dict = {}
    if instance is None and connector_class is not None:  # POST: the form's defaults
        data.update(CREATE_DEFAULTS)
        data.update(
            {CONFIG + f.name: _as_input(f.default) for f in connector_class.config_fields if f.default is not None}
        )
    if instance is not None:  # PATCH: start from what is stored (secrets stay as they are)
        data.update({k: getattr(instance, k) for k in WRITABLE if k not in ("name", *CIRCUIT_KEYS)})
        data["allowed_hosts"] = " ".join(instance.allowed_hosts or [])
        config = instance.config or {}
        data.update({k: config.get(k) for k in CIRCUIT_KEYS})
        data.update({CONFIG + k: _as_input(v) for k, v in config.items() if k not in CIRCUIT_KEYS})
    for key in WRITABLE:
        if key in payload:
            value = payload[key]
            data[key] = " ".join(value) if key == "allowed_hosts" and isinstance(value, list) else value
    for section, prefix in (("config", CONFIG), ("credentials", SECRET)):
        values = payload.get(section) or {}
        if not isinstance(values, dict):
            raise ValidationError({section: ["Expected an object."]})
        # `config.circuit_*` (the documented way before they were fields) means the field.
        data.update({(k if k in CIRCUIT_KEYS else prefix + k): _as_input(v) for k, v in values.items()})
    return {k: ("" if v is None else v) for k, v in data.items()}


def _as_input(value):
    return json.dumps(value) if isinstance(value, dict | list) else value


def _raise_form_errors(form) -> None:
    errors = {}
    for field, messages in form.errors.items():
        key = field.replace(CONFIG, "config.").replace(SECRET, "credentials.")
        errors["non_field_errors" if field == "__all__" else key] = list(messages)
    raise ValidationError(errors)


def window_row(window) -> dict:
    return {
        "id": window.pk,
        "kind": window.kind,
        "description": services.describe_window(window),
        "weekday": window.weekday,
        "start_time": window.start_time.isoformat() if window.start_time else None,
        "end_time": window.end_time.isoformat() if window.end_time else None,
        "starts_at": window.starts_at.isoformat() if window.starts_at else None,
        "ends_at": window.ends_at.isoformat() if window.ends_at else None,
        "timezone": window.timezone,
        "note": window.note,
    }


class Conflict(APIException):
    status_code = 409
    default_code = "conflict"


class ConnectionViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet
):
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    permission_classes = [HasCapability]
    capability = "view_studio"
    write_capability = "manage_connections"
    serializer_class = ConnectionSerializer
    lookup_field = "name"
    queryset = Connection.objects.prefetch_related("maintenance_windows").order_by("name")
    pagination_class = None  # a handful of rows; the step editor wants them all

    def retrieve(self, request, *args, **kwargs):
        connection = self.get_object()
        data = self.get_serializer(connection).data
        data["objects"] = connection_objects(connection)
        data["used_by_flows"] = services.flows_using(connection)
        data["maintenance_windows"] = [window_row(w) for w in connection.maintenance_windows.all()]
        return Response(data)

    def _form(self, payload, instance=None):
        payload = require_object(payload)
        kind = instance.kind if instance is not None else payload.get("kind")
        if kind not in registry.CONNECTORS:
            raise ValidationError({"kind": [f"Unknown connector kind; one of {', '.join(registry.CONNECTORS)}."]})
        cls = registry.connector_class(kind)
        form = ConnectionForm(_form_data(payload, instance, cls), connector_class=cls, instance=instance)
        if not form.is_valid():
            _raise_form_errors(form)
        return kind, form

    @extend_schema(request=dict, responses=ConnectionSerializer)
    def create(self, request, *args, **kwargs):
        kind, form = self._form(request.data)
        try:
            connection = services.create_connection(
                request.user,
                name=form.cleaned_data["name"],
                kind=kind,
                credentials=form.cleaned_data["credentials"],
                **form.service_fields(),
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response(self.get_serializer(connection).data, status=201)

    @extend_schema(request=dict, responses=ConnectionSerializer)
    def partial_update(self, request, *args, **kwargs):
        connection = self.get_object()
        require_object(request.data)
        if "kind" in request.data or "name" in request.data:
            raise ValidationError({k: ["Cannot be changed."] for k in ("kind", "name") if k in request.data})
        _kind, form = self._form(request.data, connection)
        flows = services.flows_using(connection)
        if flows and form.redirects_traffic() and not request.data.get("confirm"):
            raise Conflict(f'Flows {", ".join(flows)} use this connection; send "confirm": true to repoint it.')
        try:
            connection = services.update_connection(
                request.user, connection, credentials=form.cleaned_data["credentials"], **form.service_fields()
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        except Connection.DoesNotExist:  # deleted by someone else since get_object
            raise NotFound(f"The connection '{connection.name}' was deleted meanwhile.") from None
        return Response(self.get_serializer(connection).data)

    def destroy(self, request, *args, **kwargs):
        connection = self.get_object()
        try:
            services.delete_connection(request.user, connection)
        except services.ConnectionInUse as exc:
            raise Conflict(exc.message) from None
        return Response(status=204)

    @extend_schema(methods=["GET"], responses=MaintenanceWindowSerializer(many=True))
    @extend_schema(methods=["POST"], request=dict, responses={201: MaintenanceWindowSerializer(many=True)})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def windows(self, request, name=None):
        """Maintenance windows: GET the list; POST {"kind": "weekly", "weekday": 6, "start_time": "22:00",
        "end_time": "02:00", "timezone": "Europe/Berlin"} or {"kind": "one_off", "starts_at": "2026-12-01T20:00",
        "ends_at": "2026-12-01T23:00", "timezone": "UTC"}."""
        connection = self.get_object()
        if request.method == "POST":
            body = require_object(request.data)
            form = MaintenanceWindowForm({k: ("" if v is None else v) for k, v in body.items()})
            if not form.is_valid():
                _raise_form_errors(form)
            try:
                services.add_window(request.user, connection, **form.cleaned_data)
            except DjangoValidationError as exc:
                raise ValidationError(exc.message_dict) from None
        rows = [window_row(w) for w in MaintenanceWindow.objects.filter(connection=connection)]  # not the prefetch
        return Response(rows, status=201 if request.method == "POST" else 200)

    @extend_schema(request=None, responses=None)
    @action(detail=True, methods=["delete"], url_path=r"windows/(?P<window_id>\d+)")
    def delete_window(self, request, name=None, window_id=None):
        connection = self.get_object()
        window = connection.maintenance_windows.filter(pk=window_id).first()
        if window is None:
            raise NotFound("No such maintenance window on this connection.")
        services.delete_window(request.user, window)
        return Response(status=204)

    @extend_schema(request=None, responses=CheckResultSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, name=None):
        connection = self.get_object()
        result = services.check_connection(request.user, connection)
        payload = {
            "ok": result.ok,
            "latency_ms": result.latency_ms,
            "message": result.message,
            "status": health(connection).status.value,
        }
        return Response(CheckResultSerializer(payload).data)

    @extend_schema(request=None, responses=ConnectionSerializer)
    @action(detail=True, methods=["post"], url_path="close-circuit")
    def close_circuit(self, request, name=None):
        """Close an open circuit by hand (the target is back): held deliveries drain in order.
        409 when the circuit is not open."""
        connection = self.get_object()
        if not circuit.close(connection, request.user):
            raise Conflict("The circuit is not open.")
        return Response(self.get_serializer(connection).data)


class ConnectorKindsView(APIView):
    permission_classes = [HasCapability]
    capability = "view_studio"

    @extend_schema(responses=ConnectorKindSerializer(many=True))
    def get(self, request):
        return Response([connector_description(kind) for kind, _label in registry.kinds()])
