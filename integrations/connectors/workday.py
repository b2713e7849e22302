"""Workday connector: REST, Time Tracking and RaaS on one tenant host.

Auth: an API client's refresh-token grant at `/ccx/oauth2/<tenant>/token` (client id and
secret by HTTP Basic) giving a bearer token, cached and fetched again once on a 401; or
HTTP Basic as the integration system user (`ISU_user@tenant`), which Workday accepts on
reports-as-a-service (and SOAP) only, not on REST: with `auth_mode=basic` only the RaaS
object works and REST objects are refused before any call (docs/VENDORS_HR_ERP.md). Objects:
- `workers` — REST `GET /ccx/api/v1/<tenant>/workers` (`limit` ≤100 / `offset`, `total`);
  REST has no changed-since filter, so a query lists everything (no watermark);
- `worker_report` — the RaaS worker-sync report with an `Updated_From` prompt: the way
  Workday tenants poll worker changes (watermark = newest `Last_Updated`);
- `time_blocks` — reported time (worker, date, quantity, timeEntryCode, comment, project:
  the fields of Workday's Reported_Time_Block_Data) through the Time Tracking REST service
  [path unverified]; Workday has no external-id upsert, so upsert looks
  `externalReferenceID` up first, and a look-up answer counts only if it carries the
  requested reference (never the first row on trust).
Errors are `{"error", "errors":[{"error","field"}]}`; 429/503 honour `Retry-After`.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx

from integrations.connectors.base import CheckResult, Connector, FieldSpec, ObjectSpec, Page, Token, WriteResult
from integrations.connectors.errors import ConnectorError
from integrations.connectors.payloads import json_object
from integrations.connectors.token_grant import basic_auth, request_token
from integrations.connectors.workday_checks import workday_checks

F = FieldSpec
WORKER_FIELDS = (
    "id",
    "descriptor",
    "workerId",
    "workerType",
    "businessTitle",
    "isManager",
    "primaryWorkEmail",
    "primaryWorkPhone",
    "location",
    "primarySupervisoryOrganization",
    "primaryJob",
    "hireDate",
    "terminationDate",
)
WORKER_KEYS = ("workerId", "primaryWorkEmail")  # what a worker can be looked up by
REPORT_FIELDS = (
    "Employee_ID",
    "Worker_WID",
    "Legal_Name",
    "Email_-_Work",
    "Business_Title",
    "Cost_Center",
    "Manager",
    "Location",
    "Hire_Date",
    "Worker_Status",
    "Last_Updated",
)
BLOCK_FIELDS = (
    "id",
    "worker",
    "date",
    "quantity",
    "timeEntryCode",
    "comment",
    "externalReferenceID",
    "project",
    "status",
)


def _fields(
    names: tuple[str, ...], dates: tuple[str, ...] = ("hireDate", "terminationDate", "date", "Hire_Date")
) -> tuple[FieldSpec, ...]:
    return tuple(F(n, "date" if n in dates else "string") for n in names)


class WorkdayConnector(Connector):
    kind = "workday"
    label = "Workday"
    auth_fields = (
        F("client_secret", "secret", False, "Client secret", help="OAuth API client."),
        F("refresh_token", "secret", False, "Refresh token", help="Issued to the API client for the ISU."),
        F("password", "secret", False, "ISU password", help="Basic auth."),
    )
    config_fields = (
        F("tenant", "string", True, "Tenant"),
        F(
            "auth_mode",
            "string",
            True,
            "Authentication",
            default="oauth",
            choices=("oauth", "basic"),
            help="OAuth for REST and reports; Basic (ISU user) works for RaaS reports only.",
        ),
        F("client_id", "string", False, "Client ID"),
        F("token_url", "url", False, "Token URL", help="Default <base URL>/ccx/oauth2/<tenant>/token"),
        F("username", "string", False, "ISU user name", help="ISU_user@tenant (basic auth)."),
        F("report_owner", "string", False, "RaaS report owner"),
        F("report_name", "string", False, "RaaS worker report"),
    )
    objects = {
        "workers": ObjectSpec(
            "workers", "Workers", _fields(WORKER_FIELDS), actions=("read", "query"), external_id_fields=WORKER_KEYS
        ),
        "worker_report": ObjectSpec(
            "worker_report", "Worker sync report (RaaS)", _fields(REPORT_FIELDS), actions=("query",)
        ),
        "time_blocks": ObjectSpec(
            "time_blocks", "Time blocks", _fields(BLOCK_FIELDS), external_id_fields=("externalReferenceID",)
        ),
    }

    @property
    def tenant(self) -> str:
        return quote(str(self.config.get("tenant", "")), safe="")

    @property
    def test_path(self) -> str:  # type: ignore[override]
        if self.config.get("auth_mode") == "basic":
            return self._report_path()
        return f"ccx/api/v1/{self.tenant}/workers?limit=1"

    def _report_path(self) -> str:
        owner = quote(self.config.get("report_owner", ""), safe="")
        name = quote(self.config.get("report_name", ""), safe="")
        return f"ccx/service/customreport2/{self.tenant}/{owner}/{name}"

    def test(self) -> CheckResult:
        started = time.monotonic()
        checks = workday_checks(self)
        failed = [c for c in checks if not c.ok]
        elapsed = int((time.monotonic() - started) * 1000)
        return CheckResult(not failed, elapsed, failed[0].detail if failed else "OK", checks)

    def _rest(self, path: str) -> str:
        return f"ccx/api/v1/{self.tenant}/{path}"

    def _time(self, path: str) -> str:
        return f"ccx/api/timeTracking/v5/{self.tenant}/{path}"

    # --- auth -------------------------------------------------------------------------
    def fetch_token(self) -> Token | None:
        if self.config.get("auth_mode") == "basic":
            return None
        url = self.config.get("token_url") or self.url(f"ccx/oauth2/{self.tenant}/token")
        form = {"grant_type": "refresh_token", "refresh_token": self.credentials.get("refresh_token", "")}
        auth = (self.config.get("client_id", ""), self.credentials.get("client_secret", ""))
        return request_token(self, url, form, auth=auth)

    def request(self, method: str, path: str, *, raise_for_status: bool = True, **kwargs: Any) -> httpx.Response:
        if self.config.get("auth_mode") == "basic" and "ccx/service/customreport2/" not in path:
            raise ConnectorError(
                "Workday REST APIs do not accept Basic authentication (only reports-as-a-service do). "
                "Switch the connection to OAuth (an API client for integrations) to read workers or write time.",
                kind="permanent",
            )
        return super().request(method, path, raise_for_status=raise_for_status, **kwargs)

    def auth_headers(self, token: Token | None) -> dict[str, str]:
        if self.config.get("auth_mode") == "basic":
            return {"Authorization": basic_auth(self.config.get("username", ""), self.credentials.get("password", ""))}
        return super().auth_headers(token)

    # --- errors -----------------------------------------------------------------------
    def error_message(self, response: httpx.Response) -> str:
        body = self.json_or_none(response)
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            fields = [str(e["field"]) for e in body.get("errors", []) if isinstance(e, dict) and e.get("field")]
            return str(body["error"]) + (f" (field: {', '.join(fields)})" if fields else "")
        return super().error_message(response)

    def error_code(self, response: httpx.Response) -> str | None:
        body = self.json_or_none(response)
        errors = body.get("errors") if isinstance(body, dict) else None
        return errors[0].get("field") if isinstance(errors, list) and errors and isinstance(errors[0], dict) else None

    # --- reads ------------------------------------------------------------------------
    def read(self, object_name: str, remote_id: str) -> dict[str, Any]:
        self.object_spec(object_name)
        path = self._rest(f"workers/{remote_id}") if object_name == "workers" else self._time(f"timeBlocks/{remote_id}")
        if object_name == "worker_report":
            raise self._unsupported("read", object_name)
        return json_object(self.request("GET", path))

    def query(
        self, object_name: str, *, since: str | None = None, cursor: str | None = None, page_size: int | None = None
    ) -> Page:
        self.object_spec(object_name)
        if object_name == "worker_report":
            return self._report(since)
        limit, offset = min(100, page_size or 100), int(cursor or 0)
        path = self._rest("workers") if object_name == "workers" else self._time("timeBlocks")
        body = json_object(self.request("GET", path, params={"limit": limit, "offset": offset}))
        records = body.get("data", [])
        more = offset + len(records) < int(body.get("total", 0)) and records
        return Page(records, str(offset + len(records)) if more else None, None)

    def _report(self, since: str | None) -> Page:
        params = {"format": "json", **({"Updated_From": since} if since else {})}
        rows = json_object(self.request("GET", self._report_path(), params=params))
        entries = rows.get("Report_Entry", [])
        stamps = [e["Last_Updated"] for e in entries if e.get("Last_Updated")]
        return Page(entries, None, max(stamps) if stamps else since)

    def find_by_external_ref(self, object_name: str, external_id_field: str, external_id: str) -> WriteResult | None:
        self.object_spec(object_name)
        if object_name == "workers" and external_id_field in WORKER_KEYS:
            return self._find_worker(external_id_field, external_id)
        if object_name != "time_blocks" or external_id_field != "externalReferenceID":
            raise self._unsupported(f"look up by {external_id_field}", object_name)
        rows = json_object(
            self.request("GET", self._time("timeBlocks"), params={"externalReferenceID": external_id, "limit": 100})
        ).get("data", [])
        # Only a row that carries the reference counts: a filter the service ignored or
        # widened must not turn into an update of somebody else's time.
        matches = [r for r in rows if isinstance(r, dict) and r.get("externalReferenceID") == external_id]
        if len(matches) > 1:
            raise ConnectorError(f"More than one Workday time block has reference {external_id!r}.", kind="permanent")
        return WriteResult(str(matches[0]["id"]), False, 200) if matches else None

    def _find_worker(self, field: str, value: str) -> WriteResult | None:
        """Workers by Employee ID or work email: REST `search` narrows, an exact match decides."""
        body = json_object(self.request("GET", self._rest("workers"), params={"search": value, "limit": 100}))
        matches = [w for w in body.get("data", []) if str(w.get(field) or "").lower() == value.strip().lower()]
        if len(matches) > 1:
            raise ConnectorError(f"More than one Workday worker has {field} {value!r}.", kind="permanent")
        return WriteResult(str(matches[0]["id"]), False, 200) if matches else None

    # --- writes -----------------------------------------------------------------------
    def _writable(self, object_name: str) -> None:
        if not self.supports(object_name, "create"):
            raise self._unsupported("write", object_name)

    def create(self, object_name: str, record: dict[str, Any], *, idempotency_key: str | None = None) -> WriteResult:
        self._writable(object_name)
        response = self.request("POST", self._time("timeBlocks"), json=record)
        body = json_object(response)
        return WriteResult(body.get("id"), True, response.status_code, self.excerpt(response))

    def update(self, object_name: str, remote_id: str, record: dict[str, Any]) -> WriteResult:
        self._writable(object_name)
        response = self.request("PATCH", self._time(f"timeBlocks/{remote_id}"), json=record)
        return WriteResult(remote_id, False, response.status_code, self.excerpt(response))
