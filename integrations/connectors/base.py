"""The Connector base class: vendor modules override small hooks, not the flow.

A vendor connector declares its `kind`, `label`, credential (`auth_fields`) and option
(`config_fields`) fields, and the `objects` it supports with their fields and actions,
then overrides what differs from the defaults below:

    fetch_token()          -> Token | None   # OAuth and other token-issuing schemes
    auth_headers(token)    -> dict           # how a request proves who it is
    error_message(resp), error_code(resp)    # the vendor's error body
    rate_limit_from_response(resp)           # the vendor's throttling signals
    read / query / create / update / upsert / find_by_external_ref / verify_webhook

Every call goes through `self.request()`, which uses the one outbound HTTP module,
refreshes the token once on a 401, and turns failures into `ConnectorError`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from integrations import crypto
from integrations.connectors.connection_settings import ConnectionSettings
from integrations.connectors.errors import ConnectorError, WebhookRejected, classify_status, parse_retry_after
from integrations.connectors.http import AttemptRecorder, HttpClient
from integrations.connectors.redaction import redact_body, redact_text

ACTIONS = ("read", "query", "create", "update", "upsert")

# Words a label writes its own way, whether the label is made from a field name (token_url ->
# "Token URL") or written by a connector ("Owner id" -> "Owner ID").
_OWN_SPELLING = ["URL", "URLs", "URI", "API", "ID", "IDs", "OAuth", "OAuth2", "HTTP", "HTTPS", "TLS", "SSL", "JWT"]
_OWN_SPELLING += ["JSON", "XML", "SOAP", "SFTP", "IP", "CRM", "ERP", "PSA", "HR", "UTC"]
LABEL_WORDS = {w.lower(): w for w in _OWN_SPELLING}


def human_label(text: str) -> str:
    """api_version -> "API version"; "PSA project id" -> "PSA project ID"."""
    words = text.replace("_", " ").split()
    if not words:
        return text
    words = [LABEL_WORDS.get(w.lower(), w) for w in words]
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


@dataclass(frozen=True)
class FieldSpec:
    """A field of a record, or of a connection's settings (config/auth)."""

    name: str
    type: str = "string"  # string, number, integer, boolean, date, datetime, object, array, secret, url
    required: bool = False
    label: str = ""
    help: str = ""
    default: Any = None
    choices: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        return human_label(self.label or self.name.lower())


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    label: str
    fields: tuple[FieldSpec, ...] = ()
    actions: tuple[str, ...] = ACTIONS
    external_id_fields: tuple[str, ...] = ()

    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


@dataclass
class NamedCheck:
    """One thing a connection test looked at, said so an admin can act on it."""

    name: str  # e.g. "Token", "Permissions", "API version", "Alternate keys"
    ok: bool
    detail: str = ""


@dataclass
class CheckResult:
    ok: bool
    latency_ms: int
    message: str = ""
    checks: list[NamedCheck] = field(default_factory=list)


@dataclass
class Page:
    records: list[dict[str, Any]]
    next_cursor: str | None = None
    watermark: str | None = None  # the newest change marker seen, for the next poll


@dataclass
class WriteResult:
    remote_id: str | None
    created: bool
    status_code: int | None = None
    excerpt: str = ""


@dataclass
class Token:
    """An access token and whatever the vendor returned with it (e.g. instance_url)."""

    access_token: str
    expires_in: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Connector:
    kind: str = ""
    label: str = ""
    auth_fields: tuple[FieldSpec, ...] = ()
    config_fields: tuple[FieldSpec, ...] = ()
    objects: dict[str, ObjectSpec] = {}
    # What `test()` calls: a cheap authenticated GET relative to the base URL.
    test_path: str = ""
    # Tokens without an expiry are cached this long (they are refreshed on a 401 anyway).
    default_token_ttl: float = 3600
    # The vendor honours an idempotency-key header on writes (NetSuite).
    supports_idempotency_key: bool = False
    # Receives webhooks only: no base URL to call (the generic webhook).
    inbound_only: bool = False

    def __init__(
        self,
        connection: ConnectionSettings,
        *,
        http: HttpClient | None = None,
        on_attempt: AttemptRecorder | None = None,
    ) -> None:
        self.connection = connection
        self.credentials: dict[str, Any] = connection.get_credentials() if connection.has_credentials else {}
        self.config: dict[str, Any] = {f.name: f.default for f in self.config_fields if f.default is not None}
        self.config.update(connection.config or {})
        secrets = [str(v) for v in self.credentials.values() if v]
        if http is None:
            http = HttpClient.for_connection(connection, secrets=secrets, on_attempt=on_attempt)
        else:
            for value in secrets:
                http.add_secret(value)
        self.http = http
        self._token: Token | None = None
        # fetch_token gave None: static credentials, so no token is looked for again (a cache
        # read and a key digest per request, for nothing).
        self._static_credentials = False

    # --- declarations -----------------------------------------------------------------
    def object_spec(self, name: str) -> ObjectSpec:
        try:
            return self.objects[name]
        except KeyError:
            raise ConnectorError(f"{self.label or self.kind} has no object {name!r}.", kind="permanent") from None

    def supports(self, object_name: str, action: str) -> bool:
        spec = self.objects.get(object_name)
        return bool(spec and action in spec.actions)

    def idempotent_upsert(self, object_name: str, external_id_field: str) -> bool:
        """Is `upsert` on this field one atomic create-or-update by external id, safe to
        repeat at any time (even while an earlier one may still be committing)? The default
        upsert (look up, then create) is not: vendors with a native one say so."""
        return False

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> dict[str, str]:
        """{config field: error} for values the connector cannot work with (form checks)."""
        return {}

    # --- URLs and auth ----------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.connection.base_url.rstrip("/")

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def fetch_token(self) -> Token | None:
        """Obtain an access token from the vendor; None for static credentials."""
        return None

    def auth_headers(self, token: Token | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token.access_token}"} if token else {}

    def _token_cache_key(self) -> str:
        material = json.dumps([self.connection.base_url, self.config, self.credentials], sort_keys=True, default=str)
        digest = hashlib.sha256(material.encode()).hexdigest()[:24]
        return f"connector-token:{self.connection.pk}:{digest}"

    def authenticate(self, *, refresh: bool = False) -> Token | None:
        """The current token (cached across processes, encrypted at rest), fetching one if needed."""
        if self._static_credentials and not refresh:
            return None
        key = self._token_cache_key()
        if refresh:
            cache.delete(key)
            self._token = None
        if self._token is None and not refresh:
            stored = cache.get(key)
            try:
                data = crypto.decrypt_json(stored) if stored else None
            except ImproperlyConfigured:  # cached under a rotated-out key: fetch a new token
                data = None
            if data:
                self._token = Token(data["access_token"], data.get("expires_in"), data.get("extra") or {})
        if self._token is None:
            self._token = self.fetch_token()
            self._static_credentials = self._token is None
            if self._token is not None:
                ttl = self._token.expires_in or self.default_token_ttl
                payload = {"access_token": self._token.access_token, "expires_in": ttl, "extra": self._token.extra}
                # Expire a little early so a token is never used in its last seconds.
                cache.set(key, crypto.encrypt_json(payload), timeout=max(1, int(ttl * 0.9)))
        if self._token is not None:
            self.http.add_secret(self._token.access_token)
        return self._token

    def default_headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    # --- the call ----------------------------------------------------------------------
    def request(self, method: str, path: str, *, raise_for_status: bool = True, **kwargs: Any) -> httpx.Response:
        """An authenticated call; one token refresh on 401; failures raise ConnectorError."""
        extra_headers = kwargs.pop("headers", None) or {}
        response = self._send(method, path, extra_headers, kwargs)
        if response.status_code == 401 and self._token is not None:
            self.authenticate(refresh=True)
            response = self._send(method, path, extra_headers, kwargs)
        if raise_for_status:
            self.raise_for_response(response)
        return response

    def _send(self, method: str, path: str, extra_headers: dict[str, str], kwargs: dict[str, Any]) -> httpx.Response:
        headers = {**self.default_headers(), **self.auth_headers(self.authenticate()), **extra_headers}
        return self.http.request(method, self.url(path), headers=headers, **kwargs)

    def raise_for_response(self, response: httpx.Response) -> None:
        throttled = self.rate_limit_from_response(response)
        if throttled is not None:
            raise throttled
        if response.status_code < 300:
            return
        raise self.error_from_response(response)

    def error_from_response(self, response: httpx.Response) -> ConnectorError:
        status = response.status_code
        if 300 <= status < 400:
            location = response.headers.get("location", "")
            return ConnectorError(
                f"HTTP {status}: redirect to {redact_text(location, self.http.secrets)!r} not followed.",
                kind="permanent",
                status_code=status,
            )
        kind, retry_after = classify_status(status, response.headers.get("retry-after"))
        text = str(self.error_message(response) or response.reason_phrase or "")
        message = redact_text(text, self.http.secrets)[:1000]
        return ConnectorError(
            f"HTTP {status}: {message}",
            kind=kind,
            status_code=status,
            retry_after=retry_after,
            vendor_code=self.error_code(response),
        )

    def error_message(self, response: httpx.Response) -> str:
        """The system's own error text; vendors override for their error body."""
        body = self.json_or_none(response)
        if isinstance(body, dict):
            for key in ("message", "error_description", "detail", "title"):
                if isinstance(text := body.get(key), str):
                    return text
            err = body.get("error")
            if isinstance(err, dict):
                message = err.get("message", json.dumps(err))
                return "" if message is None else str(message)
            if isinstance(err, str):
                return err
        return redact_body(response.content, response.headers.get("content-type", ""), self.http.secrets)[:500]

    def error_code(self, response: httpx.Response) -> str | None:
        return None

    def rate_limit_from_response(self, response: httpx.Response) -> ConnectorError | None:
        """A throttling signal in `response` as a transient error, else None.

        Default: 429, and 503 with Retry-After. Vendors add theirs (Salesforce 403
        REQUEST_LIMIT_EXCEEDED, BambooHR's HTTP 200 with a 429 error body...)."""
        status = response.status_code
        if status == 429 or (status == 503 and "retry-after" in response.headers):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            message = redact_text(str(self.error_message(response) or ""), self.http.secrets)[:1000] or "rate limited"
            return ConnectorError(
                f"HTTP {status}: throttled: {message}",
                kind="transient",
                status_code=status,
                retry_after=retry_after,
                vendor_code=self.error_code(response),
            )
        return None

    @staticmethod
    def json_or_none(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return None

    def excerpt(self, response: httpx.Response) -> str:
        return redact_body(response.content, response.headers.get("content-type", ""), self.http.secrets)

    # --- operations --------------------------------------------------------------------
    def test(self) -> CheckResult:
        """Authenticate and make one cheap call; the message is the system's own text."""
        started = time.monotonic()
        try:
            self.check()
        except ConnectorError as exc:
            return CheckResult(False, int((time.monotonic() - started) * 1000), exc.message)
        return CheckResult(True, int((time.monotonic() - started) * 1000), "OK")

    def check(self) -> None:
        self.request("GET", self.test_path or "/")

    def _unsupported(self, action: str, object_name: str) -> ConnectorError:
        return ConnectorError(f"{self.label or self.kind} cannot {action} {object_name}.", kind="permanent")

    def read(self, object_name: str, remote_id: str) -> dict[str, Any]:
        raise self._unsupported("read", object_name)

    def query(
        self, object_name: str, *, since: str | None = None, cursor: str | None = None, page_size: int | None = None
    ) -> Page:
        raise self._unsupported("query", object_name)

    def iterate(
        self, object_name: str, since: str | None = None, *, page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every record changed since the watermark, following the vendor's pagination."""
        cursor: str | None = None
        while True:
            page = self.query(object_name, since=since, cursor=cursor, page_size=page_size)
            yield from page.records
            if not page.next_cursor or page.next_cursor == cursor:
                return
            cursor = page.next_cursor

    def create(self, object_name: str, record: dict[str, Any], *, idempotency_key: str | None = None) -> WriteResult:
        raise self._unsupported("create", object_name)

    def update(self, object_name: str, remote_id: str, record: dict[str, Any]) -> WriteResult:
        raise self._unsupported("update", object_name)

    def find_by_external_ref(self, object_name: str, external_id_field: str, external_id: str) -> WriteResult | None:
        raise self._unsupported("look up", object_name)

    def upsert(
        self,
        object_name: str,
        external_id_field: str,
        external_id: str,
        record: dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> WriteResult:
        """Default: look up by external reference, then update or create.

        Vendors with a native upsert (Salesforce ext-id PATCH, HubSpot idProperty,
        NetSuite eid:, Dataverse alternate keys) override this with one call."""
        found = self.find_by_external_ref(object_name, external_id_field, external_id)
        if found is not None and found.remote_id:
            result = self.update(object_name, found.remote_id, record)
            return WriteResult(found.remote_id, False, result.status_code, result.excerpt)
        return self.create(object_name, {**record, external_id_field: external_id}, idempotency_key=idempotency_key)

    def verify_webhook(self, headers: dict[str, str], body: bytes) -> None:
        raise WebhookRejected(f"{self.label or self.kind} connections do not receive signed webhooks.")

    def close(self) -> None:
        self.http.close()
