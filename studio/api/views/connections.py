"""Connections: GET /api/v1/connections/ and /<name>/ (with the connector's objects),
POST /<name>/test; GET /api/v1/connectors/ (kinds with their fields and objects)."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.connections import services
from integrations.connections.health import health
from integrations.connections.models import Connection
from integrations.connectors import registry
from studio.api.serializers.connections import (
    CheckResultSerializer,
    ConnectionSerializer,
    connection_objects,
    connector_description,
)
from studio.permissions import HasCapability


class ConnectionViewSet(viewsets.ReadOnlyModelViewSet):
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
        return Response(data)

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


class ConnectorKindsView(APIView):
    permission_classes = [HasCapability]
    capability = "view_studio"

    @extend_schema(responses=dict)
    def get(self, request):
        return Response([connector_description(kind) for kind, _label in registry.kinds()])
