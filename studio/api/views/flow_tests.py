"""Flow testing and transfer in the API: pinned samples (CRUD), the regression check of the
draft, export of a flow's definition, and import of an export document (dry run by default).

    GET|POST              /api/v1/flows/<key>/samples/
    GET|PUT|PATCH|DELETE  /api/v1/flows/<key>/samples/<id>/
    POST                  /api/v1/flows/<key>/regression/   → {"checked", "failures": [...]}
    GET                   /api/v1/flows/<key>/export/?version=draft|live
    POST                  /api/v1/flow-imports/  {"document": {...}, "dry_run": true}

Reads need `view_studio`; writes `edit_flows`. The test-run itself is POST /api/v1/flows/<key>/test-run/."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.audit import services as audit
from integrations.flows.models import Flow
from integrations.flows.services import draft_of
from integrations.flowtests import regression, samples, transfer
from integrations.flowtests.models import Sample
from studio.api.errors import problem, problem_body
from studio.permissions import HasCapability


class SampleSerializer(serializers.ModelSerializer):
    flow = serializers.SlugRelatedField(slug_field="key", read_only=True)
    record = serializers.JSONField()
    expected = serializers.JSONField(required=False, allow_null=True)

    class Meta:
        model = Sample
        fields = ["id", "flow", "name", "record", "expected", "source", "created_at", "updated_at"]
        read_only_fields = ["id", "flow", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}  # uniqueness per flow is the service's to say


class ImportSerializer(serializers.Serializer):
    document = serializers.JSONField()
    dry_run = serializers.BooleanField(default=True)


def invalid(exc) -> serializers.ValidationError:
    return serializers.ValidationError({exc.field: [exc.message]})


class FlowScoped(APIView):
    permission_classes = [HasCapability]
    capability, write_capability = "view_studio", "edit_flows"

    def flow(self, key: str) -> Flow:
        return get_object_or_404(Flow, key=key)


class SampleList(FlowScoped):
    @extend_schema(responses=SampleSerializer(many=True))
    def get(self, request, key):
        found = self.flow(key).samples.order_by("name")
        return Response(SampleSerializer(found, many=True).data)

    @extend_schema(request=SampleSerializer, responses={201: SampleSerializer})
    def post(self, request, key):
        flow = self.flow(key)
        body = SampleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            sample = samples.pin(
                flow,
                request.user,
                name=data["name"],
                record=data["record"],
                expected=data.get("expected"),
                source=data.get("source", ""),
            )
        except samples.SampleInvalid as exc:
            raise invalid(exc) from exc
        return Response(SampleSerializer(sample).data, status=status.HTTP_201_CREATED)


class SampleDetail(FlowScoped):
    def sample(self, key, pk) -> Sample:
        return get_object_or_404(self.flow(key).samples, pk=pk)

    @extend_schema(responses=SampleSerializer)
    def get(self, request, key, pk):
        return Response(SampleSerializer(self.sample(key, pk)).data)

    @extend_schema(request=SampleSerializer, responses=SampleSerializer)
    def put(self, request, key, pk):
        return self._update(request, key, pk, partial=False)

    @extend_schema(request=SampleSerializer, responses=SampleSerializer)
    def patch(self, request, key, pk):
        return self._update(request, key, pk, partial=True)

    def _update(self, request, key, pk, *, partial: bool):
        sample = self.sample(key, pk)
        body = SampleSerializer(sample, data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        fields = {k: v for k, v in body.validated_data.items() if k in ("name", "record", "expected")}
        try:
            sample = samples.update(sample, request.user, **fields)
        except samples.SampleInvalid as exc:
            raise invalid(exc) from exc
        return Response(SampleSerializer(sample).data)

    @extend_schema(responses={204: None})
    def delete(self, request, key, pk):
        samples.delete(self.sample(key, pk), request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class Regression(FlowScoped):
    write_capability = "edit_flows"

    @extend_schema(request=None, responses=dict)
    def post(self, request, key):
        flow = self.flow(key)
        found = regression.failures(flow, draft_of(flow))
        checked = flow.samples.filter(expected__isnull=False).count()
        return Response({"checked": checked, "passed": not found, "failures": found})


class Export(FlowScoped):
    @extend_schema(responses=dict)
    def get(self, request, key):
        flow = self.flow(key)
        which = "live" if request.query_params.get("version") == "live" else "draft"
        try:
            document = transfer.export_document([flow], which)
        except transfer.ImportInvalid as exc:
            return problem(409, exc.message, code="conflict", errors={exc.field: [exc.message]})
        audit.record(request.user, "flow.export", flow, message=f"{which} definition exported (API)")
        return Response(document)


class Import(APIView):
    permission_classes = [HasCapability]
    capability = write_capability = "edit_flows"

    @extend_schema(request=ImportSerializer, responses=dict)
    def post(self, request):
        body = ImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = body.validated_data["document"]
        try:
            plan = transfer.plan(transfer.parse(_as_text(document)))
        except transfer.ImportInvalid as exc:
            raise serializers.ValidationError({"document": [exc.message]}) from exc
        if body.validated_data["dry_run"]:
            return Response({**plan.as_dict(), "applied": False})
        if not plan.ok:
            summary = "the import has problems: nothing was imported (see flows[].errors and missing_connections)"
            body = {**problem_body(400, summary, code="import-blocked"), **plan.as_dict(), "applied": False}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        transfer.apply(document, request.user)
        return Response({**plan.as_dict(), "applied": True}, status=status.HTTP_201_CREATED)


def _as_text(document) -> str:
    """parse() checks the format and size of what a file would hold."""
    return transfer.dumps(document) if not isinstance(document, str) else document


urlpatterns = [
    path("flows/<slug:key>/samples/", SampleList.as_view(), name="flow-samples"),
    path("flows/<slug:key>/samples/<int:pk>/", SampleDetail.as_view(), name="flow-sample"),
    path("flows/<slug:key>/regression/", Regression.as_view(), name="flow-regression"),
    path("flows/<slug:key>/export/", Export.as_view(), name="flow-export"),
    path("flow-imports/", Import.as_view(), name="flow-imports"),
]
