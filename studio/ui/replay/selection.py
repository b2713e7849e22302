"""The stored events a replay form selects, oldest first (the order a replay runs them)."""

from django.db.models import Exists, OuterRef, Q

from integrations.events.models import Event
from integrations.runs.models import Run


def selected_events(data: dict, flow=None):
    events = Event.objects.select_related("connection").order_by("received_at", "id")
    if data.get("connection"):
        # The source is the connection's name even when the event was stored without the link.
        events = events.filter(Q(connection__name=data["connection"]) | Q(source=data["connection"]))
    if data.get("business_key"):
        events = events.filter(business_key=data["business_key"])
    if data.get("received_from"):
        events = events.filter(received_at__gte=data["received_from"])
    if data.get("received_to"):
        events = events.filter(received_at__lte=data["received_to"])
    if flow is not None:
        # Events that ran through the flow (as the API's replay selects them), without a join
        # that would repeat an event once per run.
        ran = Run.objects.filter(event=OuterRef("pk"), flow_version__flow=flow)
        events = events.filter(Exists(ran))
    return events
