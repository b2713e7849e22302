"""URL map. Areas own their url modules; this file only mounts them."""

from django.conf import settings
from django.urls import include, path

from studio.health import healthz
from studio.observability.views import metrics

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),  # Prometheus, bearer token (studio/observability/views.py)
    path("api/v1/", include("studio.api.urls")),
    path("hooks/", include(("studio.hooks", "hooks"))),
    path("", include("studio.ui.urls")),
]

if settings.SWITCHBOARD_SANDBOXES_ENABLED:
    urlpatterns.append(path("sandbox/", include("integrations.sandboxes.urls")))

# JSON problem documents under /api/, the HTML pages everywhere else (studio/api/errors.py).
handler400 = "studio.api.errors.bad_request"
handler403 = "studio.api.errors.permission_denied"
handler404 = "studio.api.errors.page_not_found"
handler500 = "studio.api.errors.server_error"
