"""Runs with their steps: GET /api/v1/runs/ (filter by status, flow, trigger, business key)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import APIException
from rest_framework.pagination import CursorPagination

from integrations.runs.models import Run
from integrations.runs.queries import filter_runs
from studio.api.serializers.runs import RunDetailSerializer, RunSerializer
from studio.permissions import HasCapability


class NewestFirst(CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200


class Conflict(APIException):
    status_code = 409
    default_detail = "The object is not in a state that allows this action."
    default_code = "conflict"


def filter_params(names):
    return [OpenApiParameter(name, str, description=f"filter by {name.replace('_', ' ')}") for name in names]


@extend_schema_view(
    list=extend_schema(parameters=filter_params(["status", "flow", "trigger", "business_key", "event"]))
)
class RunViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [HasCapability]
    capability = "view_studio"
    pagination_class = NewestFirst

    def get_queryset(self):
        qs = Run.objects.select_related("flow_version__flow")
        if self.action == "retrieve":
            return qs.prefetch_related("steps")
        return filter_runs(qs, self.request.query_params)

    def get_serializer_class(self):
        return RunDetailSerializer if self.action == "retrieve" else RunSerializer
