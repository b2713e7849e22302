"""BambooHR connector.

Auth: the API key as the HTTP Basic username with any password. Reads use Get Employee
(`fields=`), List Employees (cursor: `page[limit]`, `page[after]`, `meta.page.nextCursor`)
and, for polling, `employees/changed?since=` followed by batch reads (`filter[ids]`).
Creates answer 201 + `Location`; BambooHR has no external-id upsert or idempotency, so
upsert looks the employee up first (Datasets API v2, filter on employeeNumber or
workEmail). Errors carry their text in the `X-BambooHR-Error-Message` header (or an
`{"error":{"code","message"}}` body); throttling is 429/503 with `Retry-After`, and one
endpoint answers HTTP 200 with a 429 error body.
Webhooks are verified per BambooHR: hex HMAC-SHA256 of body + `X-BambooHR-Timestamp`.
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

import httpx

from integrations.connectors.bamboohr_checks import bamboohr_checks
from integrations.connectors.bamboohr_workers import WORKER_FIELDS, server_time, worker, worker_page
from integrations.connectors.base import CheckResult, Connector, FieldSpec, ObjectSpec, Page, Token, WriteResult
from integrations.connectors.errors import ConnectorError, EventInvalid, WebhookRejected
from integrations.connectors.payloads import json_list, json_object
from integrations.connectors.redaction import redact_text
from integrations.connectors.webhooks import check_timestamp, hmac_sha256, lower_headers, matches_any

F = FieldSpec
EMPLOYEE_FIELDS = (
    "employeeNumber",
    "firstName",
    "lastName",
    "preferredName",
    "workEmail",
    "jobTitle",
    "department",
    "division",
    "location",
    "hireDate",
    "terminationDate",
    "status",
    "supervisorEId",
    "employmentHistoryStatus",
)
# List Employees returns a fixed set plus these optional fields (EmployeeOptionalField).
LIST_FIELDS = "workEmail,hireDate,departmentName,divisionName,locationName,employmentStatusName,reportsToId"
_LIST_RENAMES = {
    "employeeId": "id",
    "jobTitleName": "jobTitle",
    "departmentName": "department",
    "divisionName": "division",
    "locationName": "location",
    "reportsToId": "supervisorEId",
    "employmentStatusName": "employmentHistoryStatus",
}
_ID_IN_LOCATION = re.compile(r"(?:/employees/|[?&]id=)(\d+)")
_SECONDS = re.compile(r"(\d+)\s*seconds?")
PAGE_LIMIT = 100


def normalise(record: dict[str, Any]) -> dict[str, Any]:
    """A List Employees item under the field names Get Employee uses."""
    return {_LIST_RENAMES.get(k, k): v for k, v in record.items() if k != "_restrictedFields"}


class BambooHRConnector(Connector):
    kind = "bamboohr"
    label = "BambooHR"
    test_path = "api/v1/employees/0"
    auth_fields = (
        F("api_key", "secret", True, "API key"),
        F(
            "webhook_private_key",
            "secret",
            False,
            "Webhook private key",
            help="The privateKey BambooHR showed once when the webhook was created.",
        ),
    )
    config_fields = (F("company_domain", "string", False, "Company domain", help="<domain>.bamboohr.com"),)
    objects = {
        "employees": ObjectSpec(
            "employees",
            "Employees",
            tuple(F(n, "date" if n.endswith("Date") else "string") for n in ("id", *EMPLOYEE_FIELDS)),
            actions=("read", "query", "create", "update", "upsert"),
            external_id_fields=("employeeNumber", "workEmail"),
        ),
        # Polling for an HR sync: each changed employee whole, with its compensation in force.
        "worker_sync": ObjectSpec(
            "worker_sync",
            "Changed employees (HR sync)",
            tuple(F(n, "date" if n.endswith("Date") else "string") for n in ("id", *WORKER_FIELDS, "compensation")),
            actions=("query",),
        ),
    }

    def test(self) -> CheckResult:
        started = time.monotonic()
        checks = bamboohr_checks(self)
        failed = [c for c in checks if not c.ok]
        elapsed = int((time.monotonic() - started) * 1000)
        return CheckResult(not failed, elapsed, failed[0].detail if failed else "OK", checks)

    def auth_headers(self, token: Token | None) -> dict[str, str]:
        raw = f"{self.credentials.get('api_key', '')}:x".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    # --- errors -----------------------------------------------------------------------
    def error_message(self, response: httpx.Response) -> str:
        header = response.headers.get("X-BambooHR-Error-Message")
        if header:
            return str(header)
        body = self.json_or_none(response)
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return str(body["error"].get("message", ""))
        if isinstance(body, dict) and isinstance(body.get("errors"), list):
            return "; ".join(str(e.get("error", "")) + ": " + ", ".join(e.get("issues", [])) for e in body["errors"])
        return super().error_message(response)

    def error_code(self, response: httpx.Response) -> str | None:
        body = self.json_or_none(response)
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return str(body["error"].get("code"))
        return None

    def rate_limit_from_response(self, response: httpx.Response) -> ConnectorError | None:
        throttled = super().rate_limit_from_response(response)
        if throttled is not None or response.status_code != 200:
            return throttled
        # The quirk: HTTP 200 whose body is {"error": {"code": 429, "message": "... in 60 seconds"}}.
        body = self.json_or_none(response) if "json" in response.headers.get("content-type", "") else None
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict) and str(err.get("code")) == "429":
            message = str(err.get("message", "Over rate limit"))
            seconds = _SECONDS.search(message)
            return ConnectorError(
                f"HTTP 200: throttled: {redact_text(message, self.http.secrets)}",
                kind="transient",
                status_code=429,
                retry_after=float(seconds.group(1)) if seconds else None,
                vendor_code="429",
            )
        return None

    # --- reads ------------------------------------------------------------------------
    def _check(self, object_name: str) -> None:
        self.object_spec(object_name)

    def read(self, object_name: str, remote_id: str) -> dict[str, Any]:
        self._check(object_name)
        if object_name == "worker_sync":
            return worker(self, remote_id)
        return json_object(
            self.request("GET", f"api/v1/employees/{remote_id}", params={"fields": ",".join(EMPLOYEE_FIELDS)})
        )

    def query(
        self, object_name: str, *, since: str | None = None, cursor: str | None = None, page_size: int | None = None
    ) -> Page:
        self._check(object_name)
        limit = min(PAGE_LIMIT, page_size or PAGE_LIMIT)
        if object_name == "worker_sync":
            return worker_page(self, since, cursor, limit)
        if since:
            return self._changed_page(since, cursor, limit)
        return self._list_page(json.loads(cursor) if cursor else {}, limit)

    def _list_page(self, state: dict[str, Any], limit: int) -> Page:
        """A full listing. List Employees has no change stamps, so the watermark is the
        server's clock when the scan began: the next poll asks `changed` since then."""
        params = {"page[limit]": str(limit), "fields": LIST_FIELDS}
        if state.get("after"):
            params["page[after]"] = state["after"]
        response = self.request("GET", "api/v1/employees", params=params)
        started = state.get("started") or server_time(response)
        body = json_object(response)
        after = (body.get("meta") or {}).get("page", {}).get("nextCursor")
        next_cursor = json.dumps({"after": after, "started": started}) if after else None
        return Page([normalise(r) for r in body.get("data", [])], next_cursor, started)

    def _changed_page(self, since: str, cursor: str | None, limit: int) -> Page:
        """Poll: the ids changed since the watermark, then one batch read per page of them.
        The cursor carries the `latest` stamp and the offset, so pages agree on one snapshot."""
        state = json.loads(cursor) if cursor else None
        if state is None:
            changed = json_object(self.request("GET", "api/v1/employees/changed", params={"since": since}))
            ids = sorted(changed.get("employees", {}), key=int)
            state = {"ids": ids, "offset": 0, "latest": changed.get("latest")}
        batch = state["ids"][state["offset"] : state["offset"] + limit]
        records: list[dict[str, Any]] = []
        if batch:
            params = {"filter[ids]": ",".join(batch), "page[limit]": str(limit), "fields": LIST_FIELDS}
            records = [
                normalise(r) for r in json_object(self.request("GET", "api/v1/employees", params=params))["data"]
            ]
        nxt = state["offset"] + limit
        next_cursor = json.dumps({**state, "offset": nxt}) if nxt < len(state["ids"]) else None
        return Page(records, next_cursor, state.get("latest") or since)

    def find_by_external_ref(self, object_name: str, external_id_field: str, external_id: str) -> WriteResult | None:
        """BambooHR has no external ids: look the employee up in the employee dataset
        (Datasets API v2) by the matching field — employeeNumber or workEmail."""
        self._check(object_name)
        if external_id_field not in ("employeeNumber", "workEmail"):
            raise ConnectorError(
                "BambooHR employees can be matched by employeeNumber or workEmail only.", kind="permanent"
            )
        literal = external_id.replace("'", "''")
        body = {
            "fields": ["employeeId", external_id_field],
            "filter": f"{external_id_field} eq '{literal}'",
            "pageSize": 2,
        }
        rows = json_object(self.request("POST", "api/v2/datasets/employee/data", json=body)).get("data", [])
        if len(rows) > 1:
            raise ConnectorError(
                f"More than one BambooHR employee has {external_id_field} {external_id!r}.", kind="permanent"
            )
        return WriteResult(rows[0]["fields"]["employeeId"], False, 200) if rows else None

    # --- writes -----------------------------------------------------------------------
    def create(self, object_name: str, record: dict[str, Any], *, idempotency_key: str | None = None) -> WriteResult:
        self._check(object_name)
        response = self.request("POST", "api/v1/employees", json=record)
        match = _ID_IN_LOCATION.search(response.headers.get("Location", ""))
        if not match:
            raise ConnectorError(
                "BambooHR created the employee but sent no Location.",
                kind="permanent",
                status_code=response.status_code,
                ambiguous=True,
            )
        return WriteResult(match.group(1), True, response.status_code)

    def update(self, object_name: str, remote_id: str, record: dict[str, Any]) -> WriteResult:
        self._check(object_name)
        response = self.request("POST", f"api/v1/employees/{remote_id}", json=record)
        return WriteResult(remote_id, False, response.status_code)

    def create_webhook(
        self,
        url: str,
        *,
        name: str = "Switchboard",
        events: tuple[str, ...] = ("employee.created", "employee.updated"),
        monitor_fields: tuple[str, ...] = EMPLOYEE_FIELDS,
    ) -> dict[str, Any]:
        """Subscribe `url`; the answer's `privateKey` is shown once — store it as a credential."""
        body = {
            "name": name,
            "url": url,
            "format": "json",
            "events": list(events),
            "monitorFields": list(monitor_fields),
        }
        created = json_object(self.request("POST", "api/v1/webhooks", json=body))
        self.http.add_secret(created.get("privateKey"))
        return created

    def webhook_log(self, webhook_id: str) -> list[dict[str, Any]]:
        return json_list(self.request("GET", f"api/v1/webhooks/{webhook_id}/log"))

    # --- webhooks -----------------------------------------------------------------------
    def verify_webhook(self, headers: dict[str, str], body: bytes) -> None:
        key = self.credentials.get("webhook_private_key")
        if not key:
            raise WebhookRejected("no webhook private key is configured for this connection")
        h = lower_headers(headers)
        stamp = h.get("x-bamboohr-timestamp")
        check_timestamp(stamp)
        signature = h.get("x-bamboohr-signature", "").strip().lower()
        if not signature:
            raise WebhookRejected("missing X-BambooHR-Signature header")
        expected = hmac_sha256(key.encode(), body + str(stamp).encode()).hex()
        if not matches_any(expected, [signature]):
            raise WebhookRejected("signature does not match")

    def webhook_event(self, headers: dict[str, str], body: bytes) -> tuple[str, str, dict[str, Any]]:
        """(type, dedupe key, payload) for the studio's webhook intake. BambooHR sends no
        event id, so the key is the event type, employee and firing time: a redelivery of
        the same event dedupes, a later change does not."""
        document = json.loads(body or b"null")
        if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
            raise EventInvalid("body", "is not a BambooHR event payload ({type, timestamp, data})")
        event_type = str(document.get("type") or "employee.updated")
        data = document["data"]
        key = f"{event_type}:{data.get('employeeId', '')}:{document.get('timestamp', '')}"
        return event_type, key, data
