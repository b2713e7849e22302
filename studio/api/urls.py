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
