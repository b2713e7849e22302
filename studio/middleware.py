"""Login for every page, except the paths machines call; a guard on what machines send.

Chosen over `login_not_required` on each view: the exemption is by path prefix in one
place, so a new API view, sandbox or webhook receiver can never be forgotten and end up
redirecting a machine to the HTML login page. These paths still authenticate in their own
way: /api/ through DRF (session or token, 401/403 as JSON), /hooks/ by webhook signature,
/sandbox/ the vendor's way, /healthz is public by design (it reveals only up/down)."""

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware

from studio.api.errors import problem

MACHINE_PATH_PREFIXES = ("/api/", "/sandbox/", "/hooks/", "/healthz")
# Where machines send JSON and read problem documents back.
GUARDED_PREFIXES = ("/api/", "/hooks/")


class StudioLoginRequiredMiddleware(LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(MACHINE_PATH_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class MachineRequestGuardMiddleware:
    """Refuses, as problem documents, requests to /api/ and /hooks/ that would otherwise fail
    in Django or in the database, before any view runs:
    - a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE: 413 naming the limit, before anything
      reads it (Django alone raises RequestDataTooBig when a view first reads the body,
      answered as a bare 400 "could not be understood");
    - a NUL character in the path or the query string: 400 (PostgreSQL refuses it in any
      string, so every filter and lookup with one was a 500 there)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(GUARDED_PREFIXES):
            refused = _too_large(request) or _nul_in_url(request)
            if refused is not None:
                return refused
        return self.get_response(request)


def _too_large(request):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0  # Django reads no body then
    if limit is None or length <= limit:
        return None
    detail = f"The request body is {length} bytes; the limit is {limit} bytes ({limit / 1048576:.1f} MiB)."
    return problem(413, detail, code="too-large", errors={"body": [detail]})


def _nul_in_url(request):
    if "\x00" not in request.path_info and "%00" not in request.META.get("QUERY_STRING", ""):
        return None
    return problem(400, "The URL may not contain the NUL character (%00).", code="nul-character")
