"""Login for every page, except the paths machines call; a size limit on what machines send.

Chosen over `login_not_required` on each view: the exemption is by path prefix in one
place, so a new API view, sandbox or webhook receiver can never be forgotten and end up
redirecting a machine to the HTML login page. These paths still authenticate in their own
way: /api/ through DRF (session or token, 401/403 as JSON), /hooks/ by webhook signature,
/sandbox/ the vendor's way, /healthz is public by design (it reveals only up/down)."""

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware

from studio.api.errors import problem

MACHINE_PATH_PREFIXES = ("/api/", "/sandbox/", "/hooks/", "/healthz")
# Where bodies are JSON for machines: an oversized one is answered as a problem document.
BODY_LIMITED_PREFIXES = ("/api/", "/hooks/")


class StudioLoginRequiredMiddleware(LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(MACHINE_PATH_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class RequestBodyLimitMiddleware:
    """A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE on /api/ or /hooks/ answers 413
    problem+json naming the limit, before anything reads it. Without this Django raises
    RequestDataTooBig when a view first reads the body, answered as a bare 400 ("could not
    be understood") — or not at all where DRF reads the stream itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.path_info.startswith(BODY_LIMITED_PREFIXES):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0  # Django reads no body then
            if length > limit:
                return body_too_large(length, limit)
        return self.get_response(request)


def body_too_large(length: int, limit: int):
    detail = f"The request body is {length} bytes; the limit is {limit} bytes ({limit / 1048576:.1f} MiB)."
    return problem(413, detail, code="too-large", errors={"body": [detail]})
