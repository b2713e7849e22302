"""Login for every page, except the paths machines call.

Chosen over `login_not_required` on each view: the exemption is by path prefix in one
place, so a new API view, sandbox or webhook receiver can never be forgotten and end up
redirecting a machine to the HTML login page. These paths still authenticate in their own
way: /api/ through DRF (session or token, 401/403 as JSON), /hooks/ by webhook signature,
/sandbox/ the vendor's way, /healthz is public by design (it reveals only up/down)."""

from django.contrib.auth.middleware import LoginRequiredMiddleware

MACHINE_PATH_PREFIXES = ("/api/", "/sandbox/", "/hooks/", "/healthz")


class StudioLoginRequiredMiddleware(LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(MACHINE_PATH_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
