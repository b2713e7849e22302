"""POST /api/v1/flows/<key>/invoke: run a published flow synchronously (token auth)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.flows.choices import FlowStatus
from integrations.runs.invoke import NotInvocable, invoke
from studio.api.errors import problem
from studio.api.views.flows import flow_or_404
from studio.permissions import HasCapability


class InvokeResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    record = serializers.JSONField()
    queued = serializers.ListField(child=serializers.DictField())
    steps = serializers.ListField(child=serializers.DictField())


class InvokeView(APIView):
    """Maps, validates and routes the posted record inline. 200 with the result; 422 with
    the validation errors (problem+json naming the field); 409 if the flow waits for an
    approval or a batch; 503 with Retry-After when a lookup target is unavailable."""

    permission_classes = [HasCapability]
    capability = write_capability = "replay_events"

    @extend_schema(
        request={"application/json": {"type": "object", "description": "The record."}},
        responses={
            200: InvokeResultSerializer,
            422: OpenApiResponse(description="validation errors"),
            409: None,
            503: None,
        },
    )
    def post(self, request, key: str):
        flow = flow_or_404(key)
        version = flow.live_version
        if version is None or flow.status != FlowStatus.ACTIVE:
            return problem(409, f"flow '{key}' has no active published version", code="not-active")
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"record": ["the body must be a JSON object"]})
        try:
            result = invoke(version, dict(request.data))
        except NotInvocable as exc:
            return problem(409, str(exc), code="not-invocable")
        if result.status == "failed":
            return self._failed(result)
        body = {"status": result.status, "record": result.record, "queued": result.queued, "steps": result.steps}
        return Response(body)

    def _failed(self, result):
        err = result.error or {}
        if err.get("classification") == "transient":
            headers = {"Retry-After": str(int(err.get("retry_after") or 30))}
            return problem(503, err.get("message") or "a system the flow reads from is unavailable", headers=headers)
        errors: dict[str, list[str]] = {}
        for item in err.get("details") or [{"field": err.get("field"), "message": err.get("message")}]:
            errors.setdefault(item.get("field") or "record", []).append(item.get("message") or "invalid")
        where = f"{err.get('step_id')}: " if err.get("step_id") else ""
        return problem(422, where + (err.get("message") or "invalid"), code="invalid", errors=errors)
