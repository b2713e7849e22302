"""A lean entry for the hottest machine call: `POST /api/v1/flows/<key>/invoke` with a token.

For a mapping flow, Django's middleware stack, DRF's request handling and the token lookup
cost about ten times what the engine does (docs/BENCHMARKS.md, benchmark 4). This WSGI layer,
in front of Django, answers that one call itself when everything about it is already known
and fine — a valid token with the grant, an active flow, a JSON object body — with the same
answer as the DRF view (both use studio/api/invoke_answer.py). Every other request, and every
invoke it does not own (no or unknown token, no grant, unknown or inactive flow, a body that is
not a JSON object, over the upload limit, a disallowed Host, plain HTTP where HTTPS is
required), goes to Django untouched, body included, and gets Django's and DRF's answers."""

import io
import json
import logging
import re
from http import HTTPStatus

import orjson
from django.conf import settings
from django.core import signals
from django.http.request import split_domain_port, validate_host

from integrations.flows.choices import FlowStatus
from integrations.runs.invoke import live_version
from studio.api import json_body
from studio.api.invoke_answer import Answer, answer, problem_answer
from studio.api.token_grants import token_allows

log = logging.getLogger(__name__)

INVOKE_PATH = re.compile(r"/api/v1/flows/(?P<key>[-a-zA-Z0-9_]+)/invoke")
CAPABILITY = "replay_events"  # InvokeView.write_capability


class InvokeGateway:
    def __init__(self, app):
        self.app = app
        self._hosts: dict[str, bool] = {}

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST":
            match = INVOKE_PATH.fullmatch(environ.get("PATH_INFO", ""))
            if match is not None:
                result = self._handle(environ, match["key"])
                if result is not None:
                    return self._respond(result, environ, start_response)
        return self.app(environ, start_response)

    def _handle(self, environ, key: str) -> Answer | None:
        """The answer, or None to hand the request to Django."""
        token = self._token(environ)
        if token is None or not self._admissible(environ):
            return None
        try:
            if not token_allows(token, CAPABILITY):
                return None
            found = live_version(key)
            if found is None or found[0] != FlowStatus.ACTIVE:
                return None
            record = self._record(environ)
            if record is None:
                return None
            return answer(found[1], record)
        except Exception:  # the same promise as Django's handler500: logged, never a traceback out
            log.exception("invoke of flow %s failed", key)
            return problem_answer(500, "The server failed to handle this request; the error has been logged.")
        finally:
            # What Django does at the end of a request: give back connections that are
            # broken or past CONN_MAX_AGE. (request_started repeats the same check at the
            # start of the next request; skipping it halves the cost on this path.)
            signals.request_finished.send(sender=self.__class__)

    @staticmethod
    def _token(environ) -> str | None:
        parts = environ.get("HTTP_AUTHORIZATION", "").split()
        return parts[1] if len(parts) == 2 and parts[0].lower() == "token" else None

    def _admissible(self, environ) -> bool:
        """The checks Django's middleware would make before the view: Host, HTTPS, size."""
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        allowed = self._hosts.get(host)
        if allowed is None:
            domain, _port = split_domain_port(host)
            allowed = bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)
            if len(self._hosts) < 1000:
                self._hosts[host] = allowed
        if not allowed or (settings.SECURE_SSL_REDIRECT and not self._secure(environ)):
            return False
        if not environ.get("CONTENT_TYPE", "").startswith("application/json"):
            return False
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return False
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return length >= 0 and (limit is None or length <= limit)

    @staticmethod
    def _secure(environ) -> bool:
        header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        if header and environ.get(header[0]) is not None:
            return environ[header[0]].split(",")[0].strip() == header[1]
        return environ.get("wsgi.url_scheme") == "https"

    @staticmethod
    def _record(environ) -> dict | None:
        """The body as a JSON object; otherwise the body is put back for Django to refuse."""
        length = int(environ["CONTENT_LENGTH"])
        body = environ["wsgi.input"].read(length) if length else b""
        try:  # the one body reader, as DRF's parser: too deep or not JSON goes to Django to refuse
            record = json_body.loads(body)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            environ["wsgi.input"] = io.BytesIO(body)
            return None
        return record

    def _respond(self, result: Answer, environ, start_response):
        try:
            body = orjson.dumps(result.body)
        except TypeError:  # an int over 64 bits: the stdlib encoder, as DRF would render it
            body = json.dumps(result.body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = [("Content-Type", result.content_type), ("Content-Length", str(len(body)))]
        headers += [(name, str(value)) for name, value in result.headers.items()]
        headers += security_headers(self._secure(environ))
        start_response(f"{result.status} {HTTPStatus(result.status).phrase}", headers)
        return [body]


def security_headers(secure: bool) -> list[tuple[str, str]]:
    """What SecurityMiddleware and XFrameOptionsMiddleware add to every Django response."""
    headers = [("X-Frame-Options", settings.X_FRAME_OPTIONS)]
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        headers.append(("Referrer-Policy", settings.SECURE_REFERRER_POLICY))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    if secure and settings.SECURE_HSTS_SECONDS:
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        headers.append(("Strict-Transport-Security", value))
    return headers
