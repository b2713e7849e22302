"""Microsoft Dynamics 365 / Dataverse Web API (OData v4) connector.

Auth: Entra ID OAuth 2.0 client credentials, scope `<org URL>/.default`; the token is
cached and fetched again once on a 401. Reads follow `@odata.nextLink` with
`Prefer: odata.maxpagesize`, and take `$expand` per entity set (`expand` option); creates
answer 204 + `OData-EntityId`. Alternate keys exist only where an admin defined them: the
connector reads `EntityDefinitions(LogicalName=...)/Keys` and upserts with one
`PATCH <set>(<key>='value')` only where the key is defined; elsewhere it looks the record
up by a field (the flow's, or the `lookup_fields` option) and updates or creates — not
atomic, so the ledger treats it as such. Winning an opportunity (`statecode` 1 in a flow's
record) is the WinOpportunity action. `write_many` sends a `$batch` change set (all or
nothing). Errors are `{"error":{"code","message"}}`; service protection is 429 +
`Retry-After` (seconds). Documentation pages: docs/VENDORS_HR_ERP.md.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import quote

import httpx

from integrations.connectors import dynamics_batch
from integrations.connectors.base import CheckResult, Connector, FieldSpec, ObjectSpec, Page, Token, WriteResult
from integrations.connectors.dynamics_checks import dynamics_checks
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
        _entity(
            "salesorderdetails",
            "Project contract lines (billing method)",
            "salesorderdetailid",
            [
                ("salesorderdetailid", "string"),
                ("productdescription", "string"),
                ("msdyn_billingmethod", "integer"),
                ("priceperunit", "number"),
                ("_msdyn_project_value", "string"),
                ("sb_externalref", "string"),
                ("modifiedon", "datetime"),
            ],
            ("sb_externalref",),
        ),
    )
)
_ENTITY_ID = re.compile(r"\(([0-9a-fA-F-]{36})\)\s*$")
# Table (logical) names, for the metadata API.
LOGICAL = {
    "accounts": "account",
    "contacts": "contact",
    "opportunities": "opportunity",
    "msdyn_projects": "msdyn_project",
    "msdyn_timeentries": "msdyn_timeentry",
    "salesorderdetails": "salesorderdetail",
}
WON = 1  # opportunity statecode Won
WON_STATUS = 3  # its default status reason


def parse_pairs(text: Any) -> dict[str, str]:
    """ "accounts=accountnumber; contacts=emailaddress1" -> {set: value}."""
    out = {}
    for item in str(text or "").split(";"):
        name, sep, value = item.partition("=")
        if sep and name.strip() and value.strip():
            out[name.strip()] = value.strip()
    return out


def with_binds(record: dict[str, Any]) -> dict[str, Any]:
    """A lookup a flow sets as `<navigation property>.bind` (a map step's `to` is a dotted
    path of names, so it cannot say `@odata.bind`) arrives as {"nav": {"bind": "/accounts(…)"}}
    and is sent as the `nav@odata.bind` Dataverse reads lookups from."""
    out = dict(record)
    for name, value in record.items():
        if isinstance(value, dict) and set(value) == {"bind"}:
            del out[name]
            out[f"{name}@odata.bind"] = value["bind"]
    return out


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
        F(
            "lookup_fields",
            "string",
            False,
            "Look-up fields where no alternate key exists",
            help="e.g. contacts=emailaddress1; msdyn_timeentries=msdyn_description",
        ),
        F(
            "expand",
            "string",
            False,
            "Related records to read",
            help="e.g. opportunities=parentaccountid($select=name)",
        ),
    )
    objects = {name: spec for name, (spec, _key) in _ENTITIES.items()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keys: dict[str, set[str]] = {}

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

    def _expand(self, object_name: str) -> dict[str, str]:
        expand = parse_pairs(self.config.get("expand")).get(object_name)
        return {"$expand": expand} if expand else {}

    def read(self, object_name: str, remote_id: str) -> dict[str, Any]:
        self._set(object_name)
        params = self._expand(object_name) or None
        return json_object(self.request("GET", f"{self.api}/{object_name}({remote_id})", params=params))

    def query(
        self, object_name: str, *, since: str | None = None, cursor: str | None = None, page_size: int | None = None
    ) -> Page:
        spec, _key = self._set(object_name)
        size = page_size or int(self.config.get("page_size") or 500)
        headers = {"Prefer": f"odata.maxpagesize={size}"}
        if cursor:  # the nextLink is a full URL on the same host; still allow-listed
            response = self.request("GET", cursor, headers=headers)
        else:
            params = {
                "$select": ",".join(spec.field_names()),
                "$orderby": "modifiedon asc",
                **self._expand(object_name),
            }
            if since:
                params["$filter"] = f"modifiedon ge {since}"
            response = self.request("GET", f"{self.api}/{object_name}", params=params, headers=headers)
        body = json_object(response)
        records = body.get("value", [])
        stamps = [r["modifiedon"] for r in records if r.get("modifiedon")]
        return Page(records, body.get("@odata.nextLink"), max(stamps) if stamps else since)

    def alternate_keys(self, object_name: str) -> set[str]:
        """Columns with an active single-column alternate key in this environment (cached)."""
        if object_name not in self._keys:
            path = f"{self.api}/EntityDefinitions(LogicalName='{LOGICAL[object_name]}')/Keys"
            body = json_object(self.request("GET", path, params={"$select": "KeyAttributes,EntityKeyIndexStatus"}))
            self._keys[object_name] = {
                k["KeyAttributes"][0]
                for k in body.get("value", [])
                if isinstance(k, dict)
                and len(k.get("KeyAttributes") or []) == 1
                and k.get("EntityKeyIndexStatus", "Active") == "Active"
            }
        return self._keys[object_name]

    def _lookup_field(self, object_name: str, external_id_field: str) -> str:
        return parse_pairs(self.config.get("lookup_fields")).get(object_name) or external_id_field

    def find_by_external_ref(self, object_name: str, external_id_field: str, external_id: str) -> WriteResult | None:
        spec, key = self._set(object_name)
        if external_id_field not in spec.field_names():
            raise ConnectorError(f"Dataverse {object_name} has no column {external_id_field!r}.", kind="permanent")
        params = {
            "$select": f"{key},{external_id_field}",
            "$top": "2",
            "$filter": f"{external_id_field} eq '{external_id.replace(chr(39), chr(39) * 2)}'",
        }
        rows = json_object(self.request("GET", f"{self.api}/{object_name}", params=params)).get("value", [])
        # Only rows that really carry the value count (Dataverse compares strings without case).
        matches = [r for r in rows if isinstance(r, dict) and str(r.get(external_id_field)) == external_id]
        if len(matches) > 1:
            raise ConnectorError(
                f"More than one Dataverse {object_name} record has {external_id_field} {external_id!r}: "
                "define an alternate key on that column.",
                kind="permanent",
            )
        return WriteResult(matches[0][key], False, 200) if matches else None

    # --- writes -----------------------------------------------------------------------
    def create(self, object_name: str, record: dict[str, Any], *, idempotency_key: str | None = None) -> WriteResult:
        self._set(object_name)
        record, win = self._split_win(object_name, with_binds(record))
        response = self.request("POST", f"{self.api}/{object_name}", json=record)
        match = _ENTITY_ID.search(response.headers.get("OData-EntityId", ""))
        if not match:
            raise ConnectorError(
                "Dataverse created the record but sent no OData-EntityId.",
                kind="permanent",
                status_code=response.status_code,
                ambiguous=True,
            )
        if win is not None:
            self.win_opportunity(match.group(1), win)
        return WriteResult(match.group(1), True, response.status_code, self.excerpt(response))

    def update(self, object_name: str, remote_id: str, record: dict[str, Any]) -> WriteResult:
        self._set(object_name)
        record, win = self._split_win(object_name, with_binds(record))
        status = 204
        excerpt = ""
        if record or win is None:
            # If-Match: * turns PATCH into update-only (without it Dataverse would upsert).
            response = self.request(
                "PATCH", f"{self.api}/{object_name}({remote_id})", json=record, headers={"If-Match": "*"}
            )
            status, excerpt = response.status_code, self.excerpt(response)
        if win is not None:
            self.win_opportunity(remote_id, win)
        return WriteResult(remote_id, False, status, excerpt)

    # --- winning an opportunity ------------------------------------------------------------
    @staticmethod
    def _split_win(object_name: str, record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """A flow that sets an opportunity's statecode to Won gets the WinOpportunity action:
        Dataverse closes opportunities through it, not through a statecode write."""
        if object_name != "opportunities" or record.get("statecode") != WON:
            return record, None
        rest = {k: v for k, v in record.items() if k not in ("statecode", "statuscode")}
        return rest, {"statuscode": record.get("statuscode") or WON_STATUS, **rest}

    def win_opportunity(self, opportunity_id: str, record: dict[str, Any] | None = None) -> None:
        record = record or {}
        close: dict[str, Any] = {
            "subject": str(record.get("name") or "Won"),
            "opportunityid@odata.bind": f"/opportunities({opportunity_id})",
        }
        if record.get("actualvalue") is not None:
            close["actualrevenue"] = record["actualvalue"]
        if record.get("actualclosedate"):
            close["actualend"] = record["actualclosedate"]
        body = {"Status": int(record.get("statuscode") or WON_STATUS), "OpportunityClose": close}
        self.request("POST", f"{self.api}/WinOpportunity", json=body)

    # --- bulk writes -------------------------------------------------------------------------
    def write_many(self, object_name: str, records: list[dict[str, Any]]) -> list[WriteResult]:
        """Create (or, with the primary key in the record, update) many records in one
        `$batch` change set: all are written or none is."""
        _spec, key = self._set(object_name)
        return dynamics_batch.write_many(self, object_name, key, records)

    def idempotent_upsert(self, object_name: str, external_id_field: str) -> bool:
        """PATCH …(<alternate key>=<value>) without If-Match creates or updates in one
        request — where the environment defines that alternate key."""
        spec = self.objects.get(object_name)
        if spec is None or external_id_field not in spec.external_id_fields:
            return False
        try:
            return external_id_field in self.alternate_keys(object_name)
        except ConnectorError:
            return False  # unknown: take the careful (look-up first) path

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
        record = with_binds(record)
        if external_id_field not in spec.external_id_fields or external_id_field not in self.alternate_keys(
            object_name
        ):
            # No alternate key in this environment: look the record up, then update or create.
            field = self._lookup_field(object_name, external_id_field)
            value = str(record.get(field, external_id)) if field != external_id_field else external_id
            found = self.find_by_external_ref(object_name, field, value)
            if found is not None and found.remote_id:
                return self.update(object_name, found.remote_id, record)
            return self.create(object_name, {**record, external_id_field: external_id})
        record, win = self._split_win(object_name, record)
        path = f"{self.api}/{object_name}({external_id_field}={odata_literal(external_id)})"
        response = self.request("PATCH", path, json=record, headers={"Prefer": "return=representation"})
        body = self.json_or_none(response) or {}
        remote_id = body.get(key)
        if win is not None and remote_id:
            self.win_opportunity(str(remote_id), win)
        return WriteResult(remote_id, response.status_code == 201, response.status_code, self.excerpt(response))

    # --- connection test ---------------------------------------------------------------------
    def test(self) -> CheckResult:
        started = time.monotonic()
        checks = dynamics_checks(self)
        essential = [c for c in checks if not c.ok and not c.name.startswith("Alternate key")]
        elapsed = int((time.monotonic() - started) * 1000)
        return CheckResult(not essential, elapsed, essential[0].detail if essential else "OK", checks)
