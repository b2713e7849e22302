"""A connector for JSON REST APIs without a dedicated one.

Auth: none, an API key in a header, HTTP basic, or OAuth2 client credentials.
Objects are configured per connection in `config["objects"]`, e.g.

    {"clients": {"path": "/clients", "records_path": "$.data", "cursor_path": "$.paging.next",
                 "cursor_param": "cursor", "page_size_param": "limit", "since_param": "updated_since",
                 "watermark_field": "updated_at", "id_field": "id", "external_id_field": "external_id"}}

A cursor that is a full URL (a "next" link) is followed as is — still subject to the
connection's host allow-list.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import httpx
from jsonpath_ng.parser import parse as jsonpath

from integrations.connectors.base import Connector, FieldSpec, ObjectSpec, Page, Token, WriteResult
from integrations.connectors.connection_settings import ConnectionSettings
from integrations.connectors.errors import ConnectorError

AUTH_TYPES = ("none", "header", "basic", "oauth2_client_credentials")
OBJECT_KEYS = {
    "path",
    "records_path",
    "cursor_path",
    "cursor_param",
    "page_size_param",
    "since_param",
    "watermark_field",
    "id_field",
    "external_id_field",
    # A path with `{external_id}` where PUT creates or updates the record with that external
    # id in one request (the API's own idempotent upsert); without it, upsert looks up first.
    "upsert_path",
    "label",
    "fields",
}


def _first(path: str | None, data: Any) -> Any:
    if not path:
        return None
    matches = jsonpath(path).find(data)
    return matches[0].value if matches else None


def parse_objects(raw: Any) -> dict[str, dict[str, Any]]:
    """Validate `config["objects"]`; errors name the object and key at fault."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise ValueError("objects must be a JSON object of {name: {path: ...}}")
    for name, spec in raw.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
            raise ValueError(f"objects.{name}.path is required")
        unknown = set(spec) - OBJECT_KEYS
        if unknown:
            raise ValueError(f"objects.{name}: unknown keys {', '.join(sorted(unknown))}")
        if spec.get("upsert_path") and (
            "{external_id}" not in str(spec["upsert_path"]) or not spec.get("external_id_field")
        ):
            raise ValueError(f"objects.{name}.upsert_path needs {{external_id}} in it and an external_id_field")
        for key in ("records_path", "cursor_path"):
            if spec.get(key):
                try:
                    jsonpath(spec[key])
                except Exception as exc:
                    raise ValueError(f"objects.{name}.{key} is not a valid JSONPath: {exc}") from None
    return raw


class GenericRestConnector(Connector):
    kind = "generic_rest"
    label = "Generic REST API"
    auth_fields = (
        FieldSpec("api_key", "secret", False, "API key / token", help="Sent in the auth header (header auth)."),
        FieldSpec("password", "secret", False, "Password", help="Basic auth."),
        FieldSpec("client_secret", "secret", False, "Client secret", help="OAuth2 client credentials."),
    )
    config_fields = (
        FieldSpec("auth_type", "string", True, "Authentication", default="header", choices=AUTH_TYPES),
        FieldSpec("auth_header_name", "string", False, "Auth header name", default="Authorization"),
        FieldSpec("auth_header_prefix", "string", False, "Auth header prefix", default="Bearer "),
        FieldSpec("username", "string", False, "Username", help="Basic auth."),
        FieldSpec("token_url", "string", False, "Token URL", help="OAuth2: absolute URL or a path under the base URL."),
        FieldSpec("client_id", "string", False, "Client ID", help="OAuth2 client credentials."),
        FieldSpec("scope", "string", False, "Scope"),
        FieldSpec("test_path", "string", False, "Test path", default="/", help="A cheap GET that needs auth."),
        FieldSpec("objects", "object", False, "Objects", help="JSON: {name: {path, records_path, cursor_path, ...}}"),
    )

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> dict[str, str]:
        errors = {}
        try:
            parse_objects(config.get("objects"))
        except ValueError as exc:
            errors["objects"] = str(exc)
        if config.get("auth_type") == "oauth2_client_credentials" and not config.get("client_id"):
            errors["client_id"] = "Required for OAuth2 client credentials."
        return errors

    def __init__(self, connection: ConnectionSettings, **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        try:
            self.object_config = parse_objects(self.config.get("objects"))
        except ValueError as exc:
            raise ConnectorError(str(exc), kind="permanent") from None
        self.objects = {
            name: ObjectSpec(
                name,
                spec.get("label") or name.replace("_", " ").capitalize(),
                tuple(FieldSpec(f) for f in spec.get("fields", ())),
                external_id_fields=(spec["external_id_field"],) if spec.get("external_id_field") else (),
            )
            for name, spec in self.object_config.items()
        }
        self.test_path = self.config.get("test_path") or "/"

    # --- auth --------------------------------------------------------------------------
    @property
    def auth_type(self) -> str:
        return self.config.get("auth_type") or "none"

    def fetch_token(self) -> Token | None:
        if self.auth_type != "oauth2_client_credentials":
            return None
        data = {
            "grant_type": "client_credentials",
            "client_id": self.config.get("client_id", ""),
            "client_secret": self.credentials.get("client_secret", ""),
        }
        if self.config.get("scope"):
            data["scope"] = self.config["scope"]
        response = self.http.request(
            "POST",
            self.url(self.config.get("token_url") or "/oauth/token"),
            data=data,
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            raise self.error_from_response(response)
        body = self.json_or_none(response) or {}
        if not body.get("access_token"):
            raise ConnectorError("Token endpoint answered without an access_token.", kind="permanent")
        return Token(body["access_token"], body.get("expires_in"))

    def auth_headers(self, token: Token | None) -> dict[str, str]:
        if self.auth_type == "header" and self.credentials.get("api_key"):
            prefix = self.config.get("auth_header_prefix", "")
            return {self.config.get("auth_header_name") or "Authorization": f"{prefix}{self.credentials['api_key']}"}
        if self.auth_type == "basic":
            pair = f"{self.config.get('username', '')}:{self.credentials.get('password', '')}"
            return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
        return super().auth_headers(token)

    # --- operations ----------------------------------------------------------------------
    def _spec(self, object_name: str) -> dict[str, Any]:
        self.object_spec(object_name)
        return self.object_config[object_name]

    def _records(self, spec: dict[str, Any], body: Any) -> list[dict[str, Any]]:
        records = _first(spec.get("records_path"), body) if spec.get("records_path") else body
        if not isinstance(records, list):
            raise ConnectorError(f"Expected a list of records at {spec.get('records_path') or '$'}.", kind="permanent")
        return records

    def query(
        self, object_name: str, *, since: str | None = None, cursor: str | None = None, page_size: int | None = None
    ) -> Page:
        spec = self._spec(object_name)
        params: dict[str, Any] = {}
        if cursor and cursor.startswith(("http://", "https://")):
            response = self.request("GET", cursor)
        else:
            if cursor:
                params[spec.get("cursor_param") or "cursor"] = cursor
            if since and spec.get("since_param"):
                params[spec["since_param"]] = since
            if page_size and spec.get("page_size_param"):
                params[spec["page_size_param"]] = page_size
            response = self.request("GET", spec["path"], params=params)
        body = self.json_or_none(response)
        records = self._records(spec, body)
        next_cursor = _first(spec.get("cursor_path"), body)
        field = spec.get("watermark_field")
        marks = [str(r[field]) for r in records if field and isinstance(r, dict) and r.get(field)]
        return Page(records, str(next_cursor) if next_cursor not in (None, "") else None, max(marks, default=None))

    def read(self, object_name: str, remote_id: str) -> dict[str, Any]:
        spec = self._spec(object_name)
        return self.json_or_none(self.request("GET", f"{spec['path'].rstrip('/')}/{remote_id}")) or {}

    def _write_result(self, spec: dict[str, Any], response: httpx.Response, created: bool) -> WriteResult:
        body = self.json_or_none(response)
        remote_id = body.get(spec.get("id_field") or "id") if isinstance(body, dict) else None
        return WriteResult(
            str(remote_id) if remote_id is not None else None, created, response.status_code, self.excerpt(response)
        )

    def create(self, object_name: str, record: dict[str, Any], *, idempotency_key: str | None = None) -> WriteResult:
        spec = self._spec(object_name)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._write_result(spec, self.request("POST", spec["path"], json=record, headers=headers), True)

    def update(self, object_name: str, remote_id: str, record: dict[str, Any]) -> WriteResult:
        spec = self._spec(object_name)
        response = self.request("PATCH", f"{spec['path'].rstrip('/')}/{remote_id}", json=record)
        result = self._write_result(spec, response, False)
        return WriteResult(result.remote_id or remote_id, False, result.status_code, result.excerpt)

    def idempotent_upsert(self, object_name: str, external_id_field: str) -> bool:
        spec = self.object_config.get(object_name) or {}
        return bool(spec.get("upsert_path")) and external_id_field == spec.get("external_id_field")

    def upsert(
        self,
        object_name: str,
        external_id_field: str,
        external_id: str,
        record: dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> WriteResult:
        """PUT to the object's `upsert_path` when it has one; else look up, then write."""
        if not self.idempotent_upsert(object_name, external_id_field):
            return super().upsert(object_name, external_id_field, external_id, record, idempotency_key=idempotency_key)
        spec = self._spec(object_name)
        path = spec["upsert_path"].replace("{external_id}", quote(str(external_id), safe=""))
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        response = self.request("PUT", path, json={**record, external_id_field: external_id}, headers=headers)
        return self._write_result(spec, response, response.status_code == 201)

    def find_by_external_ref(self, object_name: str, external_id_field: str, external_id: str) -> WriteResult | None:
        spec = self._spec(object_name)
        response = self.request("GET", spec["path"], params={external_id_field: external_id})
        id_field = spec.get("id_field") or "id"
        for record in self._records(spec, self.json_or_none(response)):
            if isinstance(record, dict) and str(record.get(external_id_field)) == str(external_id):
                return WriteResult(str(record.get(id_field)), False, response.status_code, "")
        return None
