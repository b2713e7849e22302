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
- `time_blocks` — worker time blocks of the Time Tracking service (v5): created under the
  worker (`…/workers/{ID}/workerTimeBlock`), listed at `…/workerTimeBlocks`. Workday has no
  external reference or idempotency key for them: upsert looks the block up by our
  `blockKey` (worker, date, time entry code, project; see workday_blocks.py) and a listed
  row counts only if it carries all four (never the first row on trust).
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
from integrations.connectors.workday_blocks import KEY_FIELD, PAGE, BlockKey, body, keyed, one_match, segment, worker_of
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
    "descriptor",
    "worker",
    "calendarDate",
    "reportedQuantity",
    "timeEntryCode",
    "project",
    "projectPlanTask",
    "inTime",
    "outTime",
    "inTimeZone",
    "outTimeZone",
    "comment",
    "doNotBill",
    "status",
)
TYPES = {
    "hireDate": "date",
    "terminationDate": "date",
    "Hire_Date": "date",
    "calendarDate": "date",
    "inTime": "datetime",
    "outTime": "datetime",
    "reportedQuantity": "number",
    "doNotBill": "boolean",
}
BLOCK_KEY = F(
    KEY_FIELD,
    "string",
    False,
    "Block key",
    help="worker ID|calendarDate|time entry code ID|project ID (project optional): how Switchboard finds a "
    "block again, since Workday keeps no external reference on time blocks. Not sent to Workday.",
)


def _fields(names: tuple[str, ...]) -> tuple[FieldSpec, ...]:
    return tuple(F(n, TYPES.get(n, "string")) for n in names)


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
            "time_blocks", "Worker time blocks", (*_fields(BLOCK_FIELDS), BLOCK_KEY), external_id_fields=(KEY_FIELD,)
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
        if object_name == "worker_report":
            raise self._unsupported("read", object_name)
        if object_name == "workers":
            return json_object(self.request("GET", self._rest(f"workers/{segment(remote_id)}")))
        return json_object(self.request("GET", self._time(f"workerTimeBlocks/{segment(remote_id)}")))

    def query(
        self, object_name: str, *, since: str | None = None, cursor: str | None = None, page_size: int | None = None
    ) -> Page:
        self.object_spec(object_name)
        if object_name == "worker_report":
            return self._report(since)
        limit, offset = min(100, page_size or 100), int(cursor or 0)
        path = self._rest("workers") if object_name == "workers" else self._time("workerTimeBlocks")
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
        if object_name != "time_blocks" or external_id_field != KEY_FIELD:
            raise self._unsupported(f"look up by {external_id_field}", object_name)
        key = BlockKey.parse(external_id)
        found = one_match(key, self._blocks_listed(key))
        return WriteResult(found, False, 200) if found else None

    def _blocks_listed(self, key: BlockKey) -> list[Any]:
        """Every block the list answers for the key's worker, date (and project), all pages."""
        rows: list[Any] = []
        while True:
            params = {**key.list_params(), "limit": PAGE, "offset": len(rows)}
            page = json_object(self.request("GET", self._time("workerTimeBlocks"), params=params))
            data = page.get("data") or []
            rows += data
            if not data or len(rows) >= int(page.get("total") or 0):
                return rows

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
        record = keyed(record, str(record[KEY_FIELD])) if record.get(KEY_FIELD) else record
        worker = worker_of(record)
        response = self.request("POST", self._time(f"workers/{segment(worker)}/workerTimeBlock"), json=body(record))
        answer = json_object(response)
        return WriteResult(answer.get("id"), True, response.status_code, self.excerpt(response))

    def update(self, object_name: str, remote_id: str, record: dict[str, Any]) -> WriteResult:
        self._writable(object_name)
        record = keyed(record, str(record[KEY_FIELD])) if record.get(KEY_FIELD) else record
        # The change goes under the block's worker: the record's, else the block's own.
        worker = worker_of(record if record.get("worker") else self.read(object_name, remote_id))
        path = self._time(f"workers/{segment(worker)}/workerTimeBlock/{segment(remote_id)}")
        response = self.request("PATCH", path, json=body(record))
        return WriteResult(remote_id, False, response.status_code, self.excerpt(response))

    def upsert(
        self,
        object_name: str,
        external_id_field: str,
        external_id: str,
        record: dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> WriteResult:
        """Look up by `blockKey`, then PATCH the one block that carries it or POST a new one.
        Not atomic: after a dropped answer the ledger looks the key up again before any
        second POST (integrations/deliveries/transport.py), as for any non-idempotent target."""
        if object_name == "time_blocks" and external_id_field == KEY_FIELD:
            record = keyed(record, external_id)
        return super().upsert(object_name, external_id_field, external_id, record, idempotency_key=idempotency_key)
