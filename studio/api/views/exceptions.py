"""The exception inbox over HTTP: list/read, actions, bulk actions by filter as jobs."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from integrations.runs.inbox import actions
from integrations.runs.inbox.bulk import start_bulk
from integrations.runs.inbox.resubmit import resubmit
from integrations.runs.models import BulkJob, RunException
from integrations.runs.queries import EXCEPTION_FILTERS, filter_exceptions
from studio.api.serializers import exceptions as s
from studio.api.views.runs import Conflict, NewestFirst, filter_params
from studio.permissions import HasCapability

BULK_PARAMS = {
    "retry": s.RetrySerializer,
    "skip": s.ReasonSerializer,
    "resolve": s.ResolveSerializer,
    "assign": s.AssignSerializer,
    "tag": s.TagSerializer,
}


def act(fn, *args, **kwargs):
    """Run an exception action; ActionInvalid becomes 400 naming the field, or 409."""
    try:
        return fn(*args, **kwargs)
    except actions.ActionInvalid as exc:
        if exc.conflict:
            raise Conflict(exc.message) from exc
        raise serializers.ValidationError({exc.field: [exc.message]}) from exc


@extend_schema_view(list=extend_schema(parameters=filter_params([f for f in EXCEPTION_FILTERS if f != "ids"])))
class ExceptionViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [HasCapability]
    capability, write_capability = "view_studio", "work_exceptions"
    pagination_class = NewestFirst

    def get_queryset(self):
        qs = RunException.objects.select_related("flow", "assignee")
        if self.action == "retrieve":
            return qs.prefetch_related("comments__author")
        params = {k: v for k, v in self.request.query_params.items() if k in EXCEPTION_FILTERS and k != "ids"}
        return filter_exceptions(qs, params)

    def get_serializer_class(self):
        return s.ExceptionDetailSerializer if self.action == "retrieve" else s.ExceptionSerializer

    def _act(self, request, body_class, fn):
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        exc = self.get_object()
        act(fn, exc, request.user, body.validated_data)
        exc.refresh_from_db()
        return Response(s.ExceptionDetailSerializer(exc).data)

    @extend_schema(request=s.RetrySerializer, responses=s.ExceptionDetailSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        return self._act(request, s.RetrySerializer, lambda e, u, d: actions.retry(e, u, **d))

    @extend_schema(request=s.ResubmitSerializer, responses=s.ExceptionDetailSerializer)
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        return self._act(request, s.ResubmitSerializer, lambda e, u, d: resubmit(e, u, d["input"], d.get("note", "")))

    @extend_schema(request=s.ReasonSerializer, responses=s.ExceptionDetailSerializer)
    @action(detail=True, methods=["post"])
    def skip(self, request, pk=None):
        return self._act(request, s.ReasonSerializer, lambda e, u, d: actions.skip(e, u, d.get("reason", "")))

    @extend_schema(request=s.ResolveSerializer, responses=s.ExceptionDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._act(request, s.ResolveSerializer, lambda e, u, d: actions.resolve(e, u, d["reason"]))

    @extend_schema(request=s.AssignSerializer, responses=s.ExceptionDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        return self._act(request, s.AssignSerializer, lambda e, u, d: actions.assign(e, u, d["assignee"] or None))

    @extend_schema(request=s.CommentSerializer, responses=s.ExceptionDetailSerializer)
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        return self._act(request, s.CommentSerializer, lambda e, u, d: actions.comment(e, u, d["body"]))

    @extend_schema(request=s.TagSerializer, responses=s.ExceptionDetailSerializer)
    @action(detail=True, methods=["post"])
    def tag(self, request, pk=None):
        return self._act(request, s.TagSerializer, lambda e, u, d: actions.tag(e, u, d["add"], d["remove"]))

    @extend_schema(request=s.BulkSerializer, responses={202: s.BulkJobSerializer})
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        body = s.BulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        params = BULK_PARAMS[data["action"]](data=data["params"])
        if not params.is_valid():
            raise serializers.ValidationError({f"params.{k}": v for k, v in params.errors.items()})
        job = act(start_bulk, request.user, data["action"], dict(data["filter"]), dict(params.validated_data))
        return Response(s.BulkJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=s.BulkJobSerializer)
    @action(detail=False, methods=["get"], url_path=r"jobs/(?P<job_id>\d+)")
    def job(self, request, job_id=None):
        return Response(s.BulkJobSerializer(get_object_or_404(BulkJob, pk=job_id)).data)
