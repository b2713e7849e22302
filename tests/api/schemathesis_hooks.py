"""Schemathesis checks of our own, loaded by .ci/schemathesis (SCHEMATHESIS_HOOKS).

Every API error is a problem document (studio/api/errors.py): a 4xx answered with any other
content type is a contract violation as much as a 500 is."""

import schemathesis

PROBLEM = "application/problem+json"


@schemathesis.check
def problem_json_on_client_errors(ctx, response, case):
    """A 4xx answers application/problem+json with type, title, status and detail."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = (content_type[0] if isinstance(content_type, list) else content_type).split(";")[0].strip()
    if content_type != PROBLEM:
        raise AssertionError(f"{response.status_code} answered {content_type or 'no content type'}, not {PROBLEM}")
    body = response.json()
    missing = [k for k in ("type", "title", "status", "detail") if not isinstance(body, dict) or k not in body]
    if missing:
        raise AssertionError(f"{response.status_code} problem document lacks {', '.join(missing)}")
    if body["status"] != response.status_code:
        raise AssertionError(f"problem status {body['status']} differs from the HTTP status {response.status_code}")
    return None
