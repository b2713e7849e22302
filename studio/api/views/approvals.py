"""Approvals: my inbox (or all, for deciders), one task, decide.

`?scope=all` lists every task and needs `decide_approvals`, as deciding does: without it the
list answers 403 naming the capability (it used to list everything to any role, and any
unknown scope did the same)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from integrations.approvals import services as approvals
from integrations.approvals.models import ApprovalTask
from studio.api.serializers.approvals import ApprovalSerializer, DecideSerializer
from studio.api.views.runs import Conflict, NewestFirst
from studio.permissions import HasCapability, can, missing_capability

SCOPES = ("mine", "all")
ALL_SCOPE_CAPABILITY = "decide_approvals"


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "scope",
                str,
                enum=list(SCOPES),
                description="'mine' (default): pending tasks I may decide; 'all': every task (needs decide_approvals)",
            ),
            OpenApiParameter("status", str),
        ]
    )
)
class ApprovalViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [HasCapability]
    capability, write_capability = "view_studio", "decide_approvals"
    serializer_class = ApprovalSerializer
    pagination_class = NewestFirst

    def list(self, request, *args, **kwargs):
        scope = request.query_params.get("scope", "mine")
        if scope not in SCOPES:
            raise serializers.ValidationError({"scope": [f"'{scope}' is not a scope; one of {', '.join(SCOPES)}."]})
        if scope == "all" and not can(request.user, ALL_SCOPE_CAPABILITY):
            raise PermissionDenied(missing_capability(request.user, ALL_SCOPE_CAPABILITY))
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        if self.action == "list" and self.request.query_params.get("scope", "mine") == "mine":
            return approvals.inbox(self.request.user)
        qs = ApprovalTask.objects.select_related("run__flow_version__flow", "assignee", "decided_by")
        if status := self.request.query_params.get("status"):
            qs = qs.filter(status=status)
        return qs

    @extend_schema(request=DecideSerializer, responses=ApprovalSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        body = DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = self.get_object()
        try:
            task = approvals.decide(
                task, request.user, body.validated_data["outcome"], body.validated_data.get("comment", "")
            )
        except approvals.DecisionInvalid as exc:
            if exc.forbidden:
                raise PermissionDenied(exc.message) from exc
            if exc.field == "status":
                raise Conflict(exc.message) from exc
            raise serializers.ValidationError({exc.field: [exc.message]}) from exc
        return Response(ApprovalSerializer(task).data)
