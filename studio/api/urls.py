"""The REST API under /api/v1/. A plain list: each area appends its own `path(...)` or
router include below (flows, runs, events, exceptions, approvals, connections)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from studio.api.views.auth import MeView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("me/", MeView.as_view(), name="api-me"),
]

# Runtime: flows, runs, exceptions, approvals, events, invoke.
from rest_framework.routers import SimpleRouter  # noqa: E402

from studio.api.views import approvals, events, exceptions, flows, invoke, runs  # noqa: E402

runtime = SimpleRouter()
runtime.register("flows", flows.FlowViewSet, basename="flow")
runtime.register("runs", runs.RunViewSet, basename="run")
runtime.register("exceptions", exceptions.ExceptionViewSet, basename="exception")
runtime.register("approvals", approvals.ApprovalViewSet, basename="approval")
runtime.register("events", events.EventViewSet, basename="event")
urlpatterns += [
    path("flows/<slug:key>/invoke", invoke.InvokeView.as_view(), name="flow-invoke"),
    *runtime.urls,
]

# Connections: read, test, and the connector kinds with their fields and objects.
from studio.api.views import connections  # noqa: E402

connections_router = SimpleRouter()
connections_router.register("connections", connections.ConnectionViewSet, basename="connection")
urlpatterns += [
    path("connectors/", connections.ConnectorKindsView.as_view(), name="connector-kinds"),
    *connections_router.urls,
]
from studio.api.views import flow_tests  # noqa: E402  (pinned samples, regression, export, import)

urlpatterns += flow_tests.urlpatterns
