"""Salesforce REST API connector.

Auth: OAuth 2.0 at `<login host>/services/oauth2/token` — client credentials (only on the
org's My Domain host), the JWT bearer flow (an RS256 assertion signed with the connected
app's certificate key), a refresh token, or the username-password flow Salesforce is
retiring (salesforce_auth.py). The token answer carries `instance_url`, where every data
call goes, and no `expires_in`: the token is kept until Salesforce answers 401
INVALID_SESSION_ID, then fetched again once.

Reads use `/sobjects/<SObject>/<Id>`; polls run SOQL ordered by `SystemModstamp` and
follow `nextRecordsUrl`; upserts are one PATCH on an External ID field (201 created,
200/204 updated, 300 several matches). Throttling is a 403 REQUEST_LIMIT_EXCEEDED, not a
429; `Sforce-Limit-Info: api-usage=used/max` comes back on every answer.

Salesforce has no signed webhooks. Changes reach us by polling SystemModstamp with an
overlapping window (`change_feed`, salesforce_changes.py); an opportunity created or
moved to Closed Won is the event `opportunity.won`.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from integrations.connectors.base import (
    CheckResult,
    Connector,
    FieldSpec,
    NamedCheck,
    ObjectSpec,
    Page,
    Token,
    WriteResult,
)
from integrations.connectors.errors import ConnectorError, parse_retry_after
from integrations.connectors.payloads import json_object
from integrations.connectors.redaction import redact_text
from integrations.connectors.salesforce_auth import (
    DEFAULT_AUDIENCE,
    DEPRECATED_GRANTS,
    GRANTS,
    JWT_GRANT,
    client_credentials_problem,
    jwt_assertion,
)
from integrations.connectors.salesforce_changes import ChangeBatch, polled_change, window_start
from integrations.connectors.token_grant import request_token

API_VERSION = "v62.0"
# The daily allocation is a rolling 24 hours: waiting an hour frees part of it. Too many
# concurrent long (≥ 20 s) requests clear as soon as those requests finish.
DAILY_LIMIT_RETRY_SECONDS = 3600.0
CONCURRENT_LIMIT_RETRY_SECONDS = 20.0
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
# instance_url hosts Salesforce itself hands out.
_SALESFORCE_HOSTS = (".salesforce.com", ".force.com", ".salesforce.mil", ".sfcrmproducts.cn")

STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review",
          "Closed Won", "Closed Lost")  # fmt: skip
_TIMESTAMPS = (
    FieldSpec("CreatedDate", "datetime"),
    FieldSpec("LastModifiedDate", "datetime"),
    FieldSpec("SystemModstamp", "datetime"),
)
OBJECTS = {
    "Opportunity": ObjectSpec(
        "Opportunity",
        "Opportunities",
        (
            FieldSpec("Id"),
            FieldSpec("Name", required=True),
            FieldSpec("AccountId"),
            FieldSpec("StageName", required=True, choices=STAGES),
            FieldSpec("IsWon", "boolean"),
            FieldSpec("IsClosed", "boolean"),
            FieldSpec("CloseDate", "date", required=True),
            FieldSpec("Amount", "number"),
            FieldSpec("CurrencyIsoCode"),
            FieldSpec("Probability", "number"),
            FieldSpec("Type"),
            FieldSpec("OwnerId"),
            FieldSpec("Region__c", label="Region"),
            FieldSpec("Project_Start_Date__c", "date", label="Project start date"),
            FieldSpec("PSA_Project_Id__c", label="PSA project id"),
            FieldSpec("External_Id__c", label="External id"),
            *_TIMESTAMPS,
        ),
        external_id_fields=("External_Id__c",),
    ),
    "Account": ObjectSpec(
        "Account",
        "Accounts",
        (
            FieldSpec("Id"),
            FieldSpec("Name", required=True),
            FieldSpec("BillingCountry"),
            FieldSpec("Industry"),
            FieldSpec("Website", "url"),
            FieldSpec("ERP_Customer_Id__c", label="ERP customer id"),
            *_TIMESTAMPS,
        ),
        external_id_fields=("ERP_Customer_Id__c",),
    ),
}


def soql_datetime(value: str) -> str:
    """A watermark as a SOQL datetime literal (UTC, whole seconds)."""
    text = value.strip().replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConnectorError(f"Watermark {value!r} is not a datetime.", kind="permanent") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SalesforceConnector(Connector):
    kind = "salesforce"
    label = "Salesforce"
    auth_fields = (
        FieldSpec("client_secret", "secret", label="Consumer secret",
                  help="Client credentials, refresh-token and password grants."),
        FieldSpec("private_key", "secret", label="JWT private key (PEM)",
                  help="JWT bearer flow: the key of the certificate uploaded to the connected app."),
        FieldSpec("refresh_token", "secret", help="Only for the refresh-token grant."),
        FieldSpec("password", "secret", label="Password + security token",
                  help="Deprecated username-password grant only."),
    )  # fmt: skip
    config_fields = (
        FieldSpec("client_id", required=True, label="Consumer key"),
        FieldSpec("grant_type", default="client_credentials", choices=GRANTS,
                  help="client_credentials needs the My Domain URL as base URL; jwt_bearer signs with the private "
                       "key; password is deprecated by Salesforce."),
        FieldSpec("username", help="JWT bearer flow (the subject) and the deprecated password grant."),
        FieldSpec("jwt_audience", "url", default=DEFAULT_AUDIENCE, label="JWT audience",
                  help="https://login.salesforce.com, or https://test.salesforce.com for a sandbox org."),
        FieldSpec("token_url", "url", help="Default: <base URL>/services/oauth2/token (your My Domain host)."),
        FieldSpec("api_version", default=API_VERSION),
    )  # fmt: skip
    objects = OBJECTS
    test_path = "limits"
    # Shown as deprecated in the connection form; the Test report says what to move to.
    deprecated_choices = {"grant_type": DEPRECATED_GRANTS}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_usage: tuple[int, int] | None = None  # (used, max) from the last answer

    # --- auth -----------------------------------------------------------------------
    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> dict[str, str]:
        grant = config.get("grant_type") or "client_credentials"
        if grant not in GRANTS:
            return {"grant_type": f"Choose one of {', '.join(GRANTS)}."}
        problem = client_credentials_problem(str(config.get("token_url") or ""))
        if grant == "client_credentials" and problem:
            return {"token_url": problem}
        if grant == "jwt_bearer" and not config.get("username"):
            return {"username": "The JWT bearer flow needs the username of the integration user."}
        return {}

    def token_url(self) -> str:
        return self.config.get("token_url") or f"{self.base_url}/services/oauth2/token"

    def fetch_token(self) -> Token:
        grant = self.config.get("grant_type") or "client_credentials"
        client_id, token_url = self.config.get("client_id", ""), self.token_url()
        form = {"grant_type": grant, "client_id": client_id, "client_secret": self.credentials.get("client_secret", "")}
        if grant == "client_credentials":
            if problem := client_credentials_problem(token_url):
                raise ConnectorError(problem, kind="permanent", vendor_code="MY_DOMAIN_REQUIRED")
        elif grant == "jwt_bearer":
            assertion = jwt_assertion(self.credentials.get("private_key", ""), client_id=client_id,
                                      username=self.config.get("username", ""),
                                      audience=self.config.get("jwt_audience") or DEFAULT_AUDIENCE)  # fmt: skip
            self.http.add_secret(assertion)
            form = {"grant_type": JWT_GRANT, "assertion": assertion}
        elif grant == "password":
            form.update(username=self.config.get("username", ""), password=self.credentials.get("password", ""))
        elif grant == "refresh_token":
            form["refresh_token"] = self.credentials.get("refresh_token", "")
        else:
            raise ConnectorError(f"Unsupported grant type {grant!r}.", kind="permanent")
        token = request_token(self, token_url, form)
        self._allow_instance(token.extra.get("instance_url", ""))
        return token

    def _allow_instance(self, instance_url: str) -> None:
        """Data calls go to `instance_url`: allowed when it is the login host, a Salesforce
        host, or one the admin listed — never an arbitrary host a token answer names."""
        host = (urlsplit(instance_url).hostname or "").lower()
        if not host:
            raise ConnectorError("The token answer has no instance_url.", kind="permanent")
        if host in self.http.allowed_hosts or host.endswith(_SALESFORCE_HOSTS):
            self.http.allowed_hosts.add(host)
            return
        raise ConnectorError(f"instance_url host {host} is not allowed for this connection.", kind="permanent")

    @property
    def data_url(self) -> str:
        token = self.authenticate()
        instance = (token.extra.get("instance_url") if token else "") or self.base_url
        self._allow_instance(instance)
        return f"{instance.rstrip('/')}/services/data/{self.config.get('api_version') or API_VERSION}"

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/services/"):  # nextRecordsUrl and attributes.url are instance-relative
            return self.data_url.split("/services/", 1)[0] + path
        return f"{self.data_url}/{path.lstrip('/')}"

    # --- answers -------------------------------------------------------------------------
    def raise_for_response(self, response: httpx.Response) -> None:
        match = _LIMIT_INFO.search(response.headers.get("sforce-limit-info", ""))
        if match:
            self.api_usage = (int(match.group(1)), int(match.group(2)))
        super().raise_for_response(response)

    def _errors(self, response: httpx.Response) -> list[dict[str, Any]]:
        body = self.json_or_none(response)
        if isinstance(body, dict):
            body = [body]
        if not isinstance(body, list):
            return []
        return [e for e in body if isinstance(e, dict) and ("errorCode" in e or "message" in e)]

    def error_message(self, response: httpx.Response) -> str:
        errors = self._errors(response)
        if not errors:
            return super().error_message(response)
        parts = []
        for err in errors:
            fields = f" (fields: {', '.join(err['fields'])})" if err.get("fields") else ""
            parts.append(f"{err.get('errorCode', 'ERROR')}: {err.get('message', '')}{fields}")
        return "; ".join(parts)

    def error_code(self, response: httpx.Response) -> str | None:
        errors = self._errors(response)
        return errors[0].get("errorCode") if errors else None

    def rate_limit_from_response(self, response: httpx.Response) -> ConnectorError | None:
        if response.status_code == 403 and self.error_code(response) == "REQUEST_LIMIT_EXCEEDED":
            message = redact_text(self.error_message(response), self.http.secrets)
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if retry_after is None:
                concurrent = "ConcurrentPerOrgLongTxn" in message
                retry_after = CONCURRENT_LIMIT_RETRY_SECONDS if concurrent else DAILY_LIMIT_RETRY_SECONDS
            return ConnectorError(f"HTTP 403: throttled: {message}", kind="transient", status_code=403,
                                  retry_after=retry_after, vendor_code="REQUEST_LIMIT_EXCEEDED")  # fmt: skip
        return super().rate_limit_from_response(response)

    # --- operations --------------------------------------------------------------------
    def read(self, object_name: str, remote_id: str) -> dict[str, Any]:
        self.object_spec(object_name)
        return json_object(self.request("GET", f"sobjects/{object_name}/{quote(remote_id, safe='')}"))

    def query(self, object_name: str, *, since: str | None = None, cursor: str | None = None,
              page_size: int | None = None) -> Page:  # fmt: skip
        spec = self.object_spec(object_name)
        headers = {"Sforce-Query-Options": f"batchSize={max(200, min(2000, page_size))}"} if page_size else {}
        if cursor:
            body = self.request("GET", cursor, headers=headers).json()
        else:
            # Field and object names come from the declared ObjectSpec, never from input.
            soql = f"SELECT {', '.join(spec.field_names())} FROM {object_name}"  # noqa: S608
            if since:
                # >= on whole seconds: a change committed in the watermark's second after the
                # last poll is read again rather than missed; the event intake deduplicates.
                soql += f" WHERE SystemModstamp >= {soql_datetime(since)}"
            soql += " ORDER BY SystemModstamp ASC"
            body = self.request("GET", "query", params={"q": soql}, headers=headers).json()
        records = body.get("records") or []
        stamps = [r["SystemModstamp"] for r in records if r.get("SystemModstamp")]
        next_cursor = None if body.get("done", True) else body.get("nextRecordsUrl")
        return Page(records, next_cursor, max(stamps, key=_instant) if stamps else since)

    def soql(self, query: str) -> list[dict[str, Any]]:
        """Every record a SOQL query returns, following nextRecordsUrl."""
        body = self.request("GET", "query", params={"q": query}).json()
        records = list(body.get("records") or [])
        while not body.get("done", True) and body.get("nextRecordsUrl"):
            body = self.request("GET", body["nextRecordsUrl"]).json()
            records.extend(body.get("records") or [])
        return records

    def create(self, object_name: str, record: dict[str, Any], *, idempotency_key: str | None = None) -> WriteResult:
        self.object_spec(object_name)
        response = self.request("POST", f"sobjects/{object_name}", json=record)
        return WriteResult(response.json().get("id"), True, response.status_code, self.excerpt(response))

    def update(self, object_name: str, remote_id: str, record: dict[str, Any]) -> WriteResult:
        self.object_spec(object_name)
        fields = {k: v for k, v in record.items() if k not in ("Id", "attributes")}
        response = self.request("PATCH", f"sobjects/{object_name}/{quote(remote_id, safe='')}", json=fields)
        return WriteResult(remote_id, False, response.status_code, self.excerpt(response))

    def _by_external_id(self, object_name: str, field: str, value: str) -> str:
        self.object_spec(object_name)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", field or ""):
            raise ConnectorError(f"{field!r} is not a field name.", kind="permanent")
        return f"sobjects/{object_name}/{field}/{quote(str(value), safe='')}"

    def find_by_external_ref(self, object_name: str, external_id_field: str, external_id: str) -> WriteResult | None:
        response = self.request("GET", self._by_external_id(object_name, external_id_field, external_id),
                                raise_for_status=False)  # fmt: skip
        if response.status_code == 404:
            return None
        self._raise_multiple(response)
        self.raise_for_response(response)
        return WriteResult(response.json().get("Id"), False, response.status_code, self.excerpt(response))

    def idempotent_upsert(self, object_name: str, external_id_field: str) -> bool:
        """PATCH sobjects/<object>/<External ID field>/<value> creates or updates atomically."""
        return object_name in self.objects

    def upsert(self, object_name: str, external_id_field: str, external_id: str, record: dict[str, Any], *,
               idempotency_key: str | None = None) -> WriteResult:  # fmt: skip
        """One PATCH on the External ID field: Salesforce creates or updates atomically."""
        path = self._by_external_id(object_name, external_id_field, external_id)
        body = {k: v for k, v in record.items() if k not in ("Id", "attributes", external_id_field)}
        response = self.request("PATCH", path, json=body, raise_for_status=False)
        self._raise_multiple(response)
        self.raise_for_response(response)
        data = self.json_or_none(response) or {}
        created = response.status_code == 201 or bool(data.get("created"))
        remote_id = data.get("id")
        if remote_id is None:  # 204 from older API versions: no body, look the id up
            found = self.find_by_external_ref(object_name, external_id_field, external_id)
            remote_id = found.remote_id if found else None
        return WriteResult(remote_id, created, response.status_code, self.excerpt(response))

    # --- change capture -----------------------------------------------------------------
    def change_feed(self, since: str | None, object_name: str = "Opportunity") -> ChangeBatch:
        """Every change since the watermark (less the overlap), as typed events with dedupe
        keys, and the next watermark: the newest SystemModstamp read."""
        spec = self.object_spec(object_name)
        soql = f"SELECT {', '.join(spec.field_names())} FROM {object_name}"  # noqa: S608 (declared names only)
        if since:
            soql += f" WHERE SystemModstamp >= {soql_datetime(window_start(since, _instant).isoformat())}"
        records = self.soql(soql + " ORDER BY SystemModstamp ASC")
        stamps = [r["SystemModstamp"] for r in records if r.get("SystemModstamp")]
        newest = max(stamps, key=_instant) if stamps else since
        if since and newest and _instant(newest) < _instant(since):
            newest = since  # the overlap only re-read older changes: the watermark never goes back
        return ChangeBatch([polled_change(object_name, r) for r in records], newest)

    # --- the connection test ------------------------------------------------------------
    def test(self) -> CheckResult:
        """Token, API version and permissions, each said so an admin can act on it."""
        started, checks = time.monotonic(), []
        grant = self.config.get("grant_type") or "client_credentials"
        try:
            self.authenticate(refresh=True)
        except ConnectorError as exc:
            checks.append(NamedCheck("Token", False, f"No token ({grant}): {exc.message}"))
            return CheckResult(False, _ms(started), exc.message, checks)
        checks.append(NamedCheck("Token", True, f"Salesforce issued a token with the {grant} grant."))
        if grant in DEPRECATED_GRANTS:  # works today, but the admin should move off it
            checks.append(NamedCheck("Grant type", False, DEPRECATED_GRANTS[grant]))
        checks.append(self._check_version())
        checks += self._check_permissions()
        failed = [c for c in checks if not c.ok and c.name != "Grant type"]
        return CheckResult(not failed, _ms(started), failed[0].detail if failed else "OK", checks)

    def _check_version(self) -> NamedCheck:
        wanted = str(self.config.get("api_version") or API_VERSION).lstrip("v")
        try:
            offered = self.request("GET", self.data_url.rsplit("/", 1)[0]).json()
        except ConnectorError as exc:
            return NamedCheck("API version", False, f"Could not list the org's API versions: {exc.message}")
        versions = [str(v.get("version")) for v in offered if isinstance(v, dict)] if isinstance(offered, list) else []
        if wanted in versions:
            newest = max(versions, key=float)
            return NamedCheck("API version", True, f"The org serves API v{wanted} (newest: v{newest}).")
        return NamedCheck("API version", False, f"The org does not serve API v{wanted}; pick one of "
                          f"{', '.join('v' + v for v in versions[-3:]) or 'the versions it lists'}.")  # fmt: skip

    def _check_permissions(self) -> list[NamedCheck]:
        checks = []
        try:
            limits = self.request("GET", "limits").json().get("DailyApiRequests") or {}
            checks.append(NamedCheck("API access", True, f"API enabled; {limits.get('Remaining', '?')} of "
                                     f"{limits.get('Max', '?')} daily API requests left."))  # fmt: skip
        except ConnectorError as exc:
            detail = f"The integration user cannot call the REST API ({exc.message}); give it 'API Enabled'."
            checks.append(NamedCheck("API access", False, detail))
        for name in self.objects:
            try:
                describe = self.request("GET", f"sobjects/{name}").json().get("objectDescribe") or {}
            except ConnectorError as exc:
                checks.append(NamedCheck(f"{name} access", False, f"Cannot read {name}: {exc.message}"))
                continue
            can = [w for w, flag in (("create", "createable"), ("update", "updateable")) if describe.get(flag)]
            ok = len(can) == 2
            detail = f"Can read, {' and '.join(can) or 'but not create or update'} {name} records." if ok else (
                f"The integration user cannot {'create' if 'create' not in can else 'update'} {name}: grant it in its "
                "permission set.")  # fmt: skip
            checks.append(NamedCheck(f"{name} access", ok, detail))
        return checks

    def _raise_multiple(self, response: httpx.Response) -> None:
        if response.status_code == 300:
            raise ConnectorError(
                "HTTP 300: several records share this external id; Salesforce did not write any. "
                f"Matches: {self.excerpt(response)[:300]}",
                kind="permanent",
                status_code=300,
                vendor_code="MULTIPLE_CHOICES",
            )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(soql_datetime(stamp).replace("Z", "+00:00")) if stamp else datetime.min


__all__ = ["SalesforceConnector"]
