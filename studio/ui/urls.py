"""The studio's pages. Each area is a package `studio/ui/<area>/` mounted here under a
namespace that matches its url name in studio/permissions.SECTIONS."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico whatever the page links; send them to our SVG icon
    (resolved per request: the hashed static name exists only after collectstatic)."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")


urlpatterns = [
    path("favicon.ico", login_not_required(FaviconView.as_view()), name="favicon"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The one-time link of an invitation or a password reset made on the users page.
    path(
        "set-password/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("set-password/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("", include("studio.ui.home.urls")),
    path("flows/", include("studio.ui.flows.urls")),
    path("gallery/", include("studio.ui.gallery.urls")),
    path("runs/", include("studio.ui.runs.urls")),
    path("exceptions/", include("studio.ui.exceptions.urls")),
    path("approvals/", include("studio.ui.approvals.urls")),
    path("connections/", include("studio.ui.connections.urls")),
    path("canonical/", include("studio.ui.canonical.urls")),
    path("crosswalk/", include("studio.ui.crosswalk.urls")),
    path("reconciliation/", include("studio.ui.reconciliation.urls")),
    path("dashboards/", include("studio.ui.dashboards.urls")),
    path("replay/", include("studio.ui.replay.urls")),
    path("audit/", include("studio.ui.audit.urls")),
    path("users/", include("studio.ui.users.urls")),
]
