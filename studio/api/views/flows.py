"""Flows: CRUD, the draft, validate, publish, versions, test-run, manual run, status, schedule."""

from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from integrations.flows import four_eyes
from integrations.flows import services as flows
from integrations.flows.models import Flow, PublishRequest
from integrations.flows.testing import test_run
from integrations.triggers import schedules
from integrations.triggers.manual import start_manual_run
from studio.api.serializers import flows as s
from studio.api.serializers.runs import RunSerializer
from studio.api.views.runs import NewestFirst
from studio.permissions import HasCapability


def definition_errors(errors: list[dict]) -> serializers.ValidationError:
    """Definition errors as field errors: {"definition.steps[0].from": ["message (step 'map')"]}."""
    out: dict[str, list[str]] = {}
    for e in errors:
        where = f" (step '{e['step_id']}')" if e.get("step_id") else ""
        out.setdefault(f"definition.{e['field']}", []).append(e["message"] + where)
    return serializers.ValidationError(out)


class FlowViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [HasCapability]
    capability, write_capability = "view_studio", "edit_flows"
    lookup_field = "key"
    pagination_class = NewestFirst
    queryset = Flow.objects.select_related("owner")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_serializer_class(self):
        serializers_by_action = {
            "create": s.FlowCreateSerializer,
            "update": s.FlowUpdateSerializer,
            "partial_update": s.FlowUpdateSerializer,
            "retrieve": s.FlowDetailSerializer,
        }
        return serializers_by_action.get(self.action, s.FlowSerializer)

    def get_permissions(self):
        if self.action in ("publish", "set_status", "schedule", "decide_publish"):
            self.write_capability = "publish_flows"
        elif self.action == "run":
            self.write_capability = "replay_events"
        return super().get_permissions()

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = flows.create_flow(
                self.request.user,
                key=data["key"],
                name=data["name"],
                description=data.get("description", ""),
                tags=data.get("tags", []),
                definition=data.get("definition"),
            )
        except flows.DraftInvalid as exc:
            raise definition_errors(exc.errors) from exc
        except IntegrityError as exc:
            raise serializers.ValidationError({"key": ["a flow with this key already exists"]}) from exc

    def perform_update(self, serializer):
        editable = ("name", "description", "tags", "invoke_delivers_inline")
        fields = {k: v for k, v in serializer.validated_data.items() if k in editable}
        serializer.instance = flows.update_flow(serializer.instance, self.request.user, **fields)

    @extend_schema(request=s.DraftSerializer, responses=s.FlowVersionSerializer)
    @action(detail=True, methods=["get", "put"])
    def draft(self, request, key=None):
        flow = self.get_object()
        if request.method == "GET":
            return Response(s.FlowVersionSerializer(flows.draft_of(flow)).data)
        body = s.DraftSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            draft, errors = flows.save_draft(
                flow,
                request.user,
                body.validated_data["definition"],
                notes=body.validated_data.get("notes"),
                strict=not body.validated_data["allow_errors"],
            )
        except flows.DraftInvalid as exc:
            raise definition_errors(exc.errors) from exc
        return Response({**s.FlowVersionSerializer(draft).data, "errors": errors})

    @extend_schema(request=s.ValidateSerializer, responses=s.ValidationResultSerializer)
    @action(detail=True, methods=["post"])
    def validate(self, request, key=None):
        flow = self.get_object()
        body = s.ValidateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        definition = body.validated_data.get("definition", flows.draft_of(flow).definition)
        errors = flows.validate(definition)
        return Response({"valid": not errors, "errors": errors})

    @extend_schema(
        request=s.PublishSerializer, responses={201: s.FlowVersionSerializer, 202: s.PublishRequestSerializer}
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, key=None):
        """Publish the draft (201, the new version). A draft delivering to an ERP connection
        needs a second person: it becomes a publish request (202) with a required note."""
        flow = self.get_object()
        body = s.PublishSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        notes = body.validated_data.get("notes", "")
        draft = flows.draft_of(flow)
        try:
            if four_eyes.erp_targets(draft.definition):
                pending = four_eyes.request_publish(flow, request.user, notes=notes)
                return Response(s.PublishRequestSerializer(pending).data, status=status.HTTP_202_ACCEPTED)
            version = flows.publish(flow, request.user, notes=notes)
        except flows.DraftInvalid as exc:
            raise definition_errors(exc.errors) from exc
        except four_eyes.FourEyesRefused as exc:
            raise serializers.ValidationError({exc.field: [exc.message]}) from exc
        return Response(s.FlowVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.PublishRequestSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="publish-requests", pagination_class=None)
    def publish_requests(self, request, key=None):
        flow = self.get_object()
        return Response(s.PublishRequestSerializer(flow.publish_requests.all()[:50], many=True).data)

    @extend_schema(request=s.DecisionSerializer, responses=s.PublishRequestSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"publish-requests/(?P<request_id>[0-9]+)/(?P<decision>approve|reject|withdraw)",
    )
    def decide_publish(self, request, key=None, request_id=None, decision=None):
        """approve (a second person with publish rights; publishes), reject (comment required), withdraw."""
        flow = self.get_object()
        pending = get_object_or_404(PublishRequest, pk=request_id, flow=flow)
        body = s.DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        comment = body.validated_data["comment"]
        try:
            if decision == "approve":
                four_eyes.approve(pending, request.user, comment=comment)
            elif decision == "reject":
                four_eyes.reject(pending, request.user, comment=comment)
            else:
                four_eyes.withdraw(pending, request.user)
        except four_eyes.FourEyesRefused as exc:
            raise serializers.ValidationError({exc.field: [exc.message]}) from exc
        except flows.DraftInvalid as exc:
            raise definition_errors(exc.errors) from exc
        pending.refresh_from_db()
        return Response(s.PublishRequestSerializer(pending).data)

    @extend_schema(responses=s.FlowVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # every published version, newest first
    def versions(self, request, key=None):
        flow = self.get_object()
        return Response(
            s.FlowVersionSerializer(flow.versions.filter(state="published").order_by("-number"), many=True).data
        )

    @extend_schema(request=s.TestRunSerializer, responses=dict)
    @action(detail=True, methods=["post"], url_path="test-run")
    def test_run(self, request, key=None):
        flow = self.get_object()
        body = s.TestRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            result = test_run(flow, request.user, body.validated_data["record"], version=body.validated_data["version"])
        except flows.DraftInvalid as exc:
            raise definition_errors(exc.errors) from exc
        except LookupError as exc:
            raise serializers.ValidationError({"version": [str(exc)]}) from exc
        return Response(result)

    @extend_schema(request=s.RecordSerializer, responses={202: RunSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, key=None):
        flow = self.get_object()
        body = s.RecordSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            run = start_manual_run(flow, request.user, body.validated_data["record"])
        except ValueError as exc:
            raise serializers.ValidationError({"flow": [str(exc)]}) from exc
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=s.StatusSerializer, responses=s.FlowSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, key=None):
        flow = self.get_object()
        body = s.StatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            flow = flows.set_status(flow, request.user, body.validated_data["status"])
        except ValueError as exc:
            raise serializers.ValidationError({"status": [str(exc)]}) from exc
        return Response(s.FlowSerializer(flow).data)

    @extend_schema(request=s.ScheduleSerializer, responses=s.ScheduleSerializer)
    @action(detail=True, methods=["put"])
    def schedule(self, request, key=None):
        flow = self.get_object()
        body = s.ScheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            schedules.set_schedule(flow, request.user, body.validated_data["cron"])
        except schedules.ScheduleInvalid as exc:
            raise serializers.ValidationError({"cron": [str(exc)]}) from exc
        return Response(body.validated_data)


def flow_or_404(key: str) -> Flow:
    return get_object_or_404(Flow, key=key)
