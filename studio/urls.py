"""URL map. Areas own their url modules; this file only mounts them."""

from django.conf import settings
from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("studio.api.urls")),
    path("", include("studio.ui.urls")),
]

if settings.SWITCHBOARD_SANDBOXES_ENABLED:
    urlpatterns.append(path("sandbox/", include("integrations.sandboxes.urls")))
