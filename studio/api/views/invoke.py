"""POST /api/v1/flows/<key>/invoke: run a published flow synchronously (token auth)."""

import time

from django.http import Http404, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.flows.choices import FlowStatus
from integrations.flows.models import Flow
from integrations.runs.invoke import CACHE_SECONDS, live_version
from studio.api.invoke_answer import Answer, answer, not_active
from studio.permissions import HasCapability, missing_capability

_granted: dict[tuple[int, str], tuple[float, bool]] = {}


class CachedCapability(HasCapability):
    """HasCapability with the answer kept CACHE_SECONDS per user: loading a user's
    permissions costs two queries, the mapping itself far less."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        now, key = time.monotonic(), (user.pk, view.capability)
        hit = _granted.get(key)
        if hit is None or hit[0] < now:
            hit = _granted[key] = (now + CACHE_SECONDS, super().has_permission(request, view))
        if not hit[1]:
            self.message = missing_capability(user, view.capability)
        return hit[1]


class InvokeResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    record = serializers.JSONField()
    queued = serializers.ListField(child=serializers.DictField(), help_text="deliveries left to the workers")
    delivered = serializers.ListField(child=serializers.DictField(), help_text="deliveries done in this request")
    steps = serializers.ListField(child=serializers.DictField())


class InvokeView(APIView):
    """Maps, validates and routes the posted record inline. 200 with the result; 422 with
    the validation errors (problem+json naming the field); 409 if the flow waits for an
    approval or a batch; 503 with Retry-After when a lookup target is unavailable."""

    permission_classes = [CachedCapability]
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
        found = live_version(key)
        if found is None and not Flow.objects.filter(key=key).exists():
            raise Http404(f"no flow '{key}'")
        status, version = found or (None, None)
        if version is None or status != FlowStatus.ACTIVE:
            return as_response(not_active(key))
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"record": ["the body must be a JSON object"]})
        return as_response(answer(version, dict(request.data)))


def as_response(result: Answer):
    if result.status == 200:
        return Response(result.body)
    response = JsonResponse(result.body, status=result.status, content_type=result.content_type)
    for name, value in result.headers.items():
        response[name] = value
    return response
