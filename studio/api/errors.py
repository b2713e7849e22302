"""Every API error is a problem document (RFC 9457, `application/problem+json`):
{"type", "title", "status", "detail"} plus `errors: {field: [messages]}` for invalid input.

`exception_handler` covers errors raised inside DRF views (parse errors, validation,
authentication, permissions, 404, 405, throttling). The `handler*` functions are Django's
error views: under /api/ they answer with the same JSON (an unknown endpoint, an uncaught
exception), everywhere else with the HTML pages."""

from http import HTTPStatus

from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

PROBLEM = "application/problem+json"
API_PREFIX = "/api/"
# Headers DRF sets on error responses that clients rely on (auth scheme, back-off).
KEPT_HEADERS = ("WWW-Authenticate", "Retry-After", "Allow")


def problem_body(status: int, detail: str, *, code: str = "", errors: dict | None = None) -> dict:
    body = {
        "type": f"urn:switchboard:problem:{code or HTTPStatus(status).phrase.lower().replace(' ', '-')}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem(status: int, detail: str, *, code: str = "", errors: dict | None = None, headers=None) -> JsonResponse:
    body = problem_body(status, detail, code=code, errors=errors)
    response = JsonResponse(body, status=status, content_type=PROBLEM)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's handler500 answers (JSON under /api/)
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    status = response.status_code
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # DRF answers 403 when the first authenticator is the session; a client without
        # credentials should hear 401 and which scheme to use.
        status, headers["WWW-Authenticate"] = 401, 'Token realm="api"'
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        return problem(status, _validation_summary(errors), code="invalid", errors=errors, headers=headers)
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else str(response.data)
    code = getattr(detail, "code", "") or getattr(exc, "default_code", "")
    return problem(status, str(detail), code=str(code).replace("_", "-"), headers=headers)


def field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error detail to {"field.sub.0": ["message"]}; input-wide
    errors go under "non_field_errors"."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(field_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            flat.update(field_errors(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(m) for m in messages]} if messages else {}


def _validation_summary(errors: dict) -> str:
    fields = [name for name in errors if name != "non_field_errors"]
    if not fields:
        return "; ".join(errors.get("non_field_errors", ["Invalid input."]))
    return "Invalid input in: " + ", ".join(fields) + "."


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request, exception, template_name="400.html"):
    if _is_api(request):
        return problem(400, "The request could not be understood.")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception, template_name="403.html"):
    if _is_api(request):
        return problem(403, "You do not have permission to perform this action.", code="permission-denied")
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception, template_name="404.html"):
    if _is_api(request):
        return problem(404, f"No API endpoint at {request.path}. See /api/v1/docs/.", code="not-found")
    return defaults.page_not_found(request, exception)


def server_error(request, template_name="500.html"):
    if _is_api(request):
        return problem(500, "The server failed to handle this request; the error has been logged.")
    return defaults.server_error(request)
