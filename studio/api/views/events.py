"""Events: the inbound event API (token auth), list, replay."""

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from integrations.connections.models import Connection
from integrations.events.models import Event
from integrations.events.services import EventInvalid, ingest_event
from integrations.flows.models import Flow
from integrations.runs.preview import preview_replay
from integrations.triggers.manual import ReplayInvalid, replay_events
from studio.api.serializers.events import (
    EventCreateSerializer,
    EventSerializer,
    IngestResultSerializer,
    ReplayPreviewSerializer,
    ReplaySerializer,
)
from studio.api.serializers.runs import RunSerializer
from studio.api.views.runs import NewestFirst, filter_params
from studio.permissions import HasCapability


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """POST creates an event: 202 with the event id and the runs it started; the same
    external id again answers 200 with the first result and starts nothing."""

    permission_classes = [HasCapability]
    capability, write_capability = "view_studio", "replay_events"
    serializer_class = EventSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        qs = Event.objects.select_related("connection")
        params = self.request.query_params
        for name in ("source", "type", "business_key", "external_id"):
            if params.get(name):
                qs = qs.filter(**{name: params[name]})
        return qs

    @extend_schema(parameters=filter_params(["source", "type", "business_key", "external_id"]))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=EventCreateSerializer, responses={202: IngestResultSerializer, 200: IngestResultSerializer})
    def create(self, request):
        """Store an event and start the flows it triggers: 202 with the event id and the runs;
        the same external id again answers 200 with the first result and starts nothing.
        Needs the `replay_events` capability (roles Operator and Admin); other roles get 403
        naming it."""
        body = EventCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        connection = Connection.objects.filter(name=data["connection"]).first()
        if connection is None:
            raise serializers.ValidationError({"connection": [f"no connection named '{data['connection']}'"]})
        try:
            result = ingest_event(
                source=connection.name,
                type=data["type"],
                external_id=data["external_id"],
                payload=data["payload"],
                connection=connection,
                business_key=data["business_key"],
            )
        except EventInvalid as exc:
            raise serializers.ValidationError({exc.field: [exc.message]}) from exc
        answer = {"event": result.event.pk, "runs": [r.pk for r in result.runs], "duplicate": not result.created}
        return Response(answer, status=status.HTTP_202_ACCEPTED if result.created else status.HTTP_200_OK)

    @extend_schema(
        request=ReplaySerializer, responses={202: RunSerializer(many=True), 200: ReplayPreviewSerializer(many=True)}
    )
    @action(detail=False, methods=["post"], pagination_class=None)  # the runs it started, all of them
    def replay(self, request):
        body = ReplaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        flow = None
        if data.get("flow"):
            flow = Flow.objects.filter(key=data["flow"]).first()
            if flow is None:
                raise serializers.ValidationError({"flow": [f"no flow '{data['flow']}'"]})
        if data["dry_run"]:
            return Response(preview_replay(self._selected(data, flow), flow=flow))
        try:
            runs = replay_events(self._selected(data, flow), request.user, flow=flow)
        except ReplayInvalid as exc:
            raise serializers.ValidationError({exc.field: [exc.message]}) from exc
        return Response(RunSerializer(runs, many=True).data, status=status.HTTP_202_ACCEPTED)

    def _selected(self, data: dict, flow):
        qs = Event.objects.order_by("received_at", "id")
        if data.get("ids"):
            qs = qs.filter(pk__in=data["ids"])
        if data.get("received_from"):
            qs = qs.filter(received_at__gte=data["received_from"])
        if data.get("received_to"):
            qs = qs.filter(received_at__lte=data["received_to"])
        for name in ("source", "type", "business_key"):
            if data.get(name):
                qs = qs.filter(**{name: data[name]})
        if flow is not None and not data.get("ids"):
            qs = qs.filter(Q(runs__flow_version__flow=flow)).distinct()
        return qs
