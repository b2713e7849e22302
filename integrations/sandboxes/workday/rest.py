"""What every Workday REST resource of the sandbox shares: the error answer
(`{"error", "errors":[{"error","field"}]}`), the tenant check, and `limit`/`offset` paging."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes.workday import TENANT
from integrations.sandboxes.workday.auth import error_body


class WorkdayError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def guarded(handler):
    """Answers another tenant with 404 and a WorkdayError with Workday's error body."""

    def run(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if kwargs.get("tenant", TENANT) != TENANT:
            return JsonResponse(error_body(f"invalid tenant: {kwargs['tenant']}"), status=404)
        try:
            return handler(request, *args, **kwargs)
        except WorkdayError as exc:
            return JsonResponse(error_body(exc.message, exc.field), status=exc.status)

    return run


def allow(request: HttpRequest, *methods: str) -> None:
    if request.method not in methods:
        raise WorkdayError(405, f"invalid request: method {request.method} is not allowed on this resource")


def paging(request: HttpRequest) -> tuple[int, int]:
    try:
        limit, offset = int(request.GET.get("limit", 20)), int(request.GET.get("offset", 0))
    except ValueError:
        raise WorkdayError(400, "invalid request: limit and offset must be integers", "limit")
    if not 1 <= limit <= 100:
        raise WorkdayError(400, "invalid request: limit must be between 1 and 100", "limit")
    if offset < 0:
        raise WorkdayError(400, "invalid request: offset must not be negative", "offset")
    return limit, offset
