"""A test client that calls the WSGI application a server runs — the invoke gateway in front
of Django, as `studio.wsgi` builds it — so tests see what a deployed server answers."""

import io
import json

from django.core import signals
from django.db import close_old_connections
from django.utils.datastructures import CaseInsensitiveMapping


class WsgiResponse:
    def __init__(self, status: str, headers: list[tuple[str, str]], content: bytes):
        self.status_code = int(status.split()[0])
        self.headers = CaseInsensitiveMapping(dict(headers))
        self.content = content

    def __getitem__(self, name: str) -> str:
        return self.headers[name]

    def json(self):
        return json.loads(self.content)


class WsgiClient:
    def __init__(self, app=None, **headers: str):
        from django.core.handlers.wsgi import WSGIHandler

        from studio.api.invoke_gateway import InvokeGateway

        # Built per client, not imported from studio.wsgi: Django's middleware reads settings
        # when it is built, and a module-level app would keep whatever the first test had.
        self.app = app or InvokeGateway(WSGIHandler())
        self.headers = headers  # WSGI names: HTTP_AUTHORIZATION=...

    def post(self, path: str, data=None, content_type: str = "application/json", **extra) -> WsgiResponse:
        return self.request("POST", path, data, content_type, **extra)

    def patch(self, path: str, data=None, content_type: str = "application/json", **extra) -> WsgiResponse:
        return self.request("PATCH", path, data, content_type, **extra)

    def request(self, method: str, path: str, data, content_type: str, **extra) -> WsgiResponse:
        application = self.app
        body = data if isinstance(data, bytes) else json.dumps(data if data is not None else {}).encode()
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(),
            **self.headers,
            **extra,
        }
        answered: dict = {}

        def start_response(status, headers, exc_info=None):
            answered.update(status=status, headers=headers)

        # As django.test.Client does: the test's transaction must outlive the request.
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            chunks = application(environ, start_response)
            content = b"".join(chunks)
            if hasattr(chunks, "close"):
                chunks.close()
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        return WsgiResponse(answered["status"], answered["headers"], content)
