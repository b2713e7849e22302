"""Only the sandboxes and the webhook intake: the ownership and reconciliation tests talk to
vendors over HTTP and need no studio page."""

from django.urls import include, path

urlpatterns = [
    path("hooks/", include(("studio.hooks", "hooks"))),
    path("sandbox/", include("integrations.sandboxes.urls")),
]
