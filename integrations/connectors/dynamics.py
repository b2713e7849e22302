"""Microsoft Dynamics 365 / Dataverse Web API (OData v4) connector.

Auth: Entra ID OAuth 2.0 client credentials, scope `<org URL>/.default`; the token is
cached and fetched again once on a 401. Reads follow `@odata.nextLink` with
`Prefer: odata.maxpagesize`; creates answer 204 + `OData-EntityId`; upserts are one
`PATCH <set>(<alternate key>='value')` with `Prefer: return=representation`, so the status
tells created (201) from updated (200). Errors are `{"error":{"code","message"}}`;
service protection is 429 + `Retry-After` (seconds).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx

from integrations.connectors.base import Connector, FieldSpec, ObjectSpec, Page, Token, WriteResult
from integrations.connectors.errors import ConnectorError
from integrations.connectors.payloads import json_object
from integrations.connectors.token_grant import request_token

F = FieldSpec


def _entity(
    name: str, label: str, key: str, fields: list[tuple[str, str]], alternate_keys: tuple[str, ...] = ()
) -> tuple[ObjectSpec, str]:
    return ObjectSpec(name, label, tuple(F(n, t) for n, t in fields), external_id_fields=alternate_keys), key


_ENTITIES = dict(
    (spec.name, (spec, key))
    for spec, key in (
        _entity(
            "accounts",
            "Accounts",
            "accountid",
            [
                ("accountid", "string"),
                ("name", "string"),
                ("accountnumber", "string"),
                ("emailaddress1", "string"),
                ("telephone1", "string"),
                ("address1_city", "string"),
                ("address1_country", "string"),
                ("revenue", "number"),
                ("statecode", "integer"),
                ("modifiedon", "datetime"),
            ],
            ("accountnumber",),
        ),
        _entity(
            "contacts",
            "Contacts",
            "contactid",
            [
                ("contactid", "string"),
                ("firstname", "string"),
                ("lastname", "string"),
                ("emailaddress1", "string"),
                ("jobtitle", "string"),
                ("_parentcustomerid_value", "string"),
                ("modifiedon", "datetime"),
            ],
            ("emailaddress1",),
        ),
        _entity(
            "opportunities",
            "Opportunities",
            "opportunityid",
            [
                ("opportunityid", "string"),
                ("name", "string"),
                ("estimatedvalue", "number"),
                ("actualvalue", "number"),
                ("actualclosedate", "date"),
                ("statecode", "integer"),
                ("statuscode", "integer"),
                ("_parentaccountid_value", "string"),
                ("modifiedon", "datetime"),
            ],
        ),
        _entity(
            "msdyn_projects",
            "Projects (Project Operations)",
            "msdyn_projectid",
            [
                ("msdyn_projectid", "string"),
                ("msdyn_subject", "string"),
                ("msdyn_description", "string"),
                ("msdyn_scheduledstart", "date"),
                ("msdyn_finish", "date"),
                ("_msdyn_customer_value", "string"),
                ("sb_externalref", "string"),
                ("modifiedon", "datetime"),
            ],
            ("sb_externalref",),
        ),
        _entity(
            "msdyn_timeentries",
            "Time entries (Project Operations)",
            "msdyn_timeentryid",
            [
                ("msdyn_timeentryid", "string"),
                ("msdyn_date", "datetime"),
                ("msdyn_duration", "integer"),
                ("msdyn_description", "string"),
                ("msdyn_type", "integer"),
                ("msdyn_entrystatus", "integer"),
                ("_msdyn_project_value", "string"),
                ("_msdyn_bookableresource_value", "string"),
                ("sb_externalref", "string"),
                ("modifiedon", "datetime"),
            ],
            ("sb_externalref",),
        ),
    )
)
_ENTITY_ID = re.compile(r"\(([0-9a-fA-F-]{36})\)\s*$")


def odata_literal(value: str) -> str:
    """A string literal in a key segment or $filter: quotes doubled, then URL-escaped."""
    return quote("'" + str(value).replace("'", "''") + "'", safe="'")


class DynamicsConnector(Connector):
    kind = "dynamics"
    label = "Dynamics 365 / Dataverse"
    auth_fields = (F("client_secret", "secret", True, "Client secret"),)
    config_fields = (
        F("tenant_id", "string", True, "Directory (tenant) ID"),
        F("client_id", "string", True, "Application (client) ID"),
        F(
            "token_url",
            "url",
            False,
            "Token URL",
            help="Default https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token",
        ),
        F("scope", "string", False, "Scope", help="Default <base URL>/.default"),
        F("api_version", "string", False, "Web API version", default="v9.2"),
        F("page_size", "integer", False, "Page size (odata.maxpagesize)", default=500),
    )
    objects = {name: spec for name, (spec, _key) in _ENTITIES.items()}

    # --- auth -------------------------------------------------------------------------
    @property
    def api(self) -> str:
        return f"api/data/{self.config.get('api_version') or 'v9.2'}"

    @property
    def test_path(self) -> str:  # type: ignore[override]
        return f"{self.api}/WhoAmI"

    def fetch_token(self) -> Token | None:
        tenant = self.config.get("tenant_id", "")
        url = self.config.get("token_url") or f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
        form = {
            "grant_type": "client_credentials",
            "client_id": self.config.get("client_id", ""),
            "client_secret": self.credentials.get("client_secret", ""),
            "scope": self.config.get("scope") or f"{self.base_url}/.default",
        }
        return request_token(self, url, form)

    def default_headers(self) -> dict[str, str]:
        return {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}

    # --- errors -----------------------------------------------------------------------
    def _error(self, response: httpx.Response) -> dict[str, Any]:
        body = self.json_or_none(response)
        err = body.get("error") if isinstance(body, dict) else None
        return err if isinstance(err, dict) else {}

    def error_message(self, response: httpx.Response) -> str:
        return str(self._error(response).get("message") or super().error_message(response))

    def error_code(self, response: httpx.Response) -> str | None:
        return self._error(response).get("code")

    # --- reads ------------------------------------------------------------------------
    def _set(self, object_name: str) -> tuple[ObjectSpec, str]:
        self.object_spec(object_name)
        return _ENTITIES[object_name]

    def read(self, object_name: str, remote_id: str) -> dict[str, Any]:
        self._set(object_name)
        return json_object(self.request("GET", f"{self.api}/{object_name}({remote_id})"))

    def query(
        self, object_name: str, *, since: str | None = None, cursor: str | None = None, page_size: int | None = None
    ) -> Page:
        spec, _key = self._set(object_name)
        size = page_size or int(self.config.get("page_size") or 500)
        headers = {"Prefer": f"odata.maxpagesize={size}"}
        if cursor:  # the nextLink is a full URL on the same host; still allow-listed
            response = self.request("GET", cursor, headers=headers)
        else:
            params = {"$select": ",".join(spec.field_names()), "$orderby": "modifiedon asc"}
            if since:
                params["$filter"] = f"modifiedon ge {since}"
            response = self.request("GET", f"{self.api}/{object_name}", params=params, headers=headers)
        body = json_object(response)
        records = body.get("value", [])
        stamps = [r["modifiedon"] for r in records if r.get("modifiedon")]
        return Page(records, body.get("@odata.nextLink"), max(stamps) if stamps else since)

    def find_by_external_ref(self, object_name: str, external_id_field: str, external_id: str) -> WriteResult | None:
        _spec, key = self._set(object_name)
        params = {
            "$select": key,
            "$top": "1",
            "$filter": f"{external_id_field} eq '{external_id.replace(chr(39), chr(39) * 2)}'",
        }
        rows = json_object(self.request("GET", f"{self.api}/{object_name}", params=params)).get("value", [])
        return WriteResult(rows[0][key], False, 200) if rows else None

    # --- writes -----------------------------------------------------------------------
    def create(self, object_name: str, record: dict[str, Any], *, idempotency_key: str | None = None) -> WriteResult:
        self._set(object_name)
        response = self.request("POST", f"{self.api}/{object_name}", json=record)
        match = _ENTITY_ID.search(response.headers.get("OData-EntityId", ""))
        if not match:
            raise ConnectorError(
                "Dataverse created the record but sent no OData-EntityId.",
                kind="permanent",
                status_code=response.status_code,
                ambiguous=True,
            )
        return WriteResult(match.group(1), True, response.status_code, self.excerpt(response))

    def update(self, object_name: str, remote_id: str, record: dict[str, Any]) -> WriteResult:
        self._set(object_name)
        # If-Match: * turns PATCH into update-only (without it Dataverse would upsert).
        response = self.request(
            "PATCH", f"{self.api}/{object_name}({remote_id})", json=record, headers={"If-Match": "*"}
        )
        return WriteResult(remote_id, False, response.status_code, self.excerpt(response))

    def idempotent_upsert(self, object_name: str, external_id_field: str) -> bool:
        """PATCH …(<alternate key>=<value>) without If-Match creates or updates in one request."""
        spec = self.objects.get(object_name)
        return spec is not None and external_id_field in spec.external_id_fields

    def upsert(
        self,
        object_name: str,
        external_id_field: str,
        external_id: str,
        record: dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> WriteResult:
        spec, key = self._set(object_name)
        if external_id_field not in spec.external_id_fields:
            return super().upsert(object_name, external_id_field, external_id, record)
        path = f"{self.api}/{object_name}({external_id_field}={odata_literal(external_id)})"
        response = self.request("PATCH", path, json=record, headers={"Prefer": "return=representation"})
        body = self.json_or_none(response) or {}
        return WriteResult(body.get(key), response.status_code == 201, response.status_code, self.excerpt(response))
