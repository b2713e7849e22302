"""Oracle NetSuite SuiteTalk REST connector.

Auth: OAuth 2.0 machine-to-machine — a client-credentials grant whose client assertion is
a JWT signed with the integration's certificate key (PS256, `kid` = certificate ID) —
posted to `/services/rest/auth/oauth2/v1/token`, the bearer token cached and fetched again
once on a 401; or Token-Based Authentication (OAuth 1.0a, HMAC-SHA256, realm = account
ID, `netsuite_tba.py`), which most existing accounts use.
Records live under `/services/rest/record/v1/<type>`: create answers 204 + `Location`;
`PUT <type>/eid:<externalId>` is the native upsert (idempotent by itself). A create with a
ledger key goes out asynchronously, the only way NetSuite honours
`X-NetSuite-Idempotency-Key` (`netsuite_async.py`); a synchronous request ignores the key.
Polling uses SuiteQL (`POST /services/rest/query/v1/suiteql`, `Prefer: transient`,
`limit`/`offset`, `hasMore`); SuiteQL answers dates in the account's date format, so the
connector asks for `TO_CHAR(..., 'YYYY-MM-DD"T"HH24:MI:SS')` copies and uses those.
A time bill's `hours` is a duration ("7:30"); flows keep a number (`netsuite_values.py`).
Errors are RFC 9457-style bodies with `o:errorDetails[{detail, o:errorCode}]`; the
account's concurrency limit answers 429 (CONCURRENCY_LIMIT_EXCEEDED).
Documentation pages for each behaviour: docs/VENDORS_HR_ERP.md.
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from integrations.connectors import netsuite_async, netsuite_tba, netsuite_values
from integrations.connectors.base import (
    CheckResult,
    Connector,
    FieldSpec,
    ObjectSpec,
    Page,
    Token,
    WriteResult,
)
from integrations.connectors.errors import ConnectorError
from integrations.connectors.netsuite_checks import netsuite_checks
from integrations.connectors.payloads import json_object
from integrations.connectors.token_grant import request_token

F = FieldSpec
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _spec(name: str, label: str, fields: list[tuple[str, str]], table: str) -> tuple[ObjectSpec, str]:
    return ObjectSpec(name, label, tuple(F(n, t) for n, t in fields), external_id_fields=("externalId",)), table


RECORDS: dict[str, tuple[ObjectSpec, str]] = {
    "customer": _spec(
        "customer",
        "Customers",
        [
            ("id", "string"),
            ("externalId", "string"),
            ("entityId", "string"),
            ("companyName", "string"),
            ("email", "string"),
            ("subsidiary", "object"),
            ("currency", "object"),
            ("lastModifiedDate", "datetime"),
        ],
        "customer",
    ),
    "job": _spec(
        "job",
        "Projects (job)",
        [
            ("id", "string"),
            ("externalId", "string"),
            ("entityId", "string"),
            ("companyName", "string"),
            ("parent", "object"),
            ("subsidiary", "object"),
            ("entityStatus", "object"),
            ("startDate", "date"),
            ("projectedEndDate", "date"),
            ("projectManager", "object"),
            ("allowTime", "boolean"),
            ("jobBillingType", "object"),
            ("lastModifiedDate", "datetime"),
        ],
        "job",
    ),
    "employee": _spec(
        "employee",
        "Employees",
        [
            ("id", "string"),
            ("externalId", "string"),
            ("entityId", "string"),
            ("firstName", "string"),
            ("lastName", "string"),
            ("email", "string"),
            ("title", "string"),
            ("subsidiary", "object"),
            ("department", "object"),
            ("supervisor", "object"),
            ("hireDate", "date"),
            ("isJobResource", "boolean"),
            ("laborCost", "number"),
            ("lastModifiedDate", "datetime"),
        ],
        "employee",
    ),
    "timeBill": _spec(
        "timeBill",
        "Time entries (timeBill)",
        [
            ("id", "string"),
            ("externalId", "string"),
            ("employee", "object"),
            ("customer", "object"),
            ("tranDate", "date"),
            ("hours", "number"),  # a duration in NetSuite ("7:30"), a number for flows
            ("isBillable", "boolean"),
            ("item", "object"),
            ("rate", "number"),
            ("memo", "string"),
            ("approvalStatus", "object"),
            ("lastModifiedDate", "datetime"),
        ],
        "timebill",
    ),
    "invoice": _spec(
        "invoice",
        "Invoices",
        [
            ("id", "string"),
            ("externalId", "string"),
            ("tranId", "string"),
            ("entity", "object"),
            ("job", "object"),
            ("tranDate", "date"),
            ("dueDate", "date"),
            ("status", "object"),
            ("total", "number"),
            ("currency", "object"),
            ("item", "object"),
            ("lastModifiedDate", "datetime"),
        ],
        "transaction",
    ),
}
# The REST name of a record where it differs from the object name flows use: the time bill
# record's id is `timebill` (the schema browser's "TimeBill"; REST record names are the ids).
REST_NAMES = {"timeBill": "timebill"}
ISO_STAMP = 'YYYY-MM-DD"T"HH24:MI:SS'
ISO_DATE = "YYYY-MM-DD"
ISO_SUFFIX = "_iso"
# Refusals for load, not content: retry later (RESTlet/SuiteScript governance and REST concurrency).
THROTTLE_CODES = frozenset({"CONCURRENCY_LIMIT_EXCEEDED", "SSS_REQUEST_LIMIT_EXCEEDED", "SSS_REQUEST_TIME_EXCEEDED"})
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")
_SQL_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_LOCATION_ID = re.compile(r"/record/v1/\w+/(\d+)\s*$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.DOTALL)


def normalise_pem(text: str) -> str:
    """A PEM pasted into a one-line secret field loses its line breaks (or gets literal
    `\\n`s); rebuild the 64-column body so the key still loads."""
    text = text.replace("\\n", "\n").strip()
    match = _PEM.search(text)
    if not match:
        return text
    body = re.sub(r"\s+", "", match.group(2))
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {match.group(1)}-----", *lines, f"-----END {match.group(1)}-----", ""])


def client_assertion(
    private_key_pem: str,
    *,
    client_id: str,
    certificate_id: str,
    audience: str,
    scope: str = "rest_webservices",
    now: int | None = None,
) -> str:
    """The PS256-signed JWT NetSuite's M2M grant expects (header `kid` = certificate ID)."""
    issued = int(now if now is not None else time.time())
    header = {"typ": "JWT", "alg": "PS256", "kid": certificate_id}
    claims = {"iss": client_id, "scope": scope.split(","), "aud": audience, "iat": issued, "exp": issued + 3600}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}".encode()
    try:
        key = serialization.load_pem_private_key(normalise_pem(private_key_pem).encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConnectorError(
            f"The certificate private key is not a valid PEM RSA key ({type(exc).__name__}).", kind="permanent"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConnectorError("The certificate private key must be an RSA key for PS256.", kind="permanent")
    signature = key.sign(signing_input, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    return f"{signing_input.decode()}.{b64url(signature)}"


class NetSuiteConnector(Connector):
    kind = "netsuite"
    label = "NetSuite"
    supports_idempotency_key = True  # on asynchronous requests only
    test_path = "services/rest/record/v1/metadata-catalog"
    auth_fields = (
        F("private_key", "secret", False, "Certificate private key (PEM)", help="OAuth 2.0 M2M."),
        F("consumer_secret", "secret", False, "Consumer secret", help="Token-based authentication."),
        F("token_id", "secret", False, "Token ID", help="Token-based authentication."),
        F("token_secret", "secret", False, "Token secret", help="Token-based authentication."),
    )
    config_fields = (
        F("account_id", "string", True, "Account ID", help="e.g. 1234567 or 1234567_SB1"),
        F("auth_mode", "string", True, "Authentication", default="m2m", choices=("m2m", "tba")),
        F("client_id", "string", False, "Client ID (integration record)", help="OAuth 2.0 M2M."),
        F("certificate_id", "string", False, "Certificate ID", help="From the OAuth 2.0 client credentials setup."),
        F("scope", "string", False, "Scopes", default="rest_webservices"),
        F("consumer_key", "string", False, "Consumer key (integration record)", help="Token-based authentication."),
        F("page_size", "integer", False, "SuiteQL page size (≤1000)", default=1000),
        F("async_wait_seconds", "number", False, "How long to wait for an asynchronous job", default=60),
    )
    objects = {name: spec for name, (spec, _table) in RECORDS.items()}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> dict[str, str]:
        mode = config.get("auth_mode") or "m2m"
        if mode not in ("m2m", "tba"):
            return {"auth_mode": "Choose m2m (OAuth 2.0 client credentials) or tba (token-based authentication)."}
        needed = ("client_id", "certificate_id") if mode == "m2m" else ("consumer_key",)
        return {name: "Required for this authentication." for name in needed if not config.get(name)}

    @property
    def tba(self) -> bool:
        return self.config.get("auth_mode") == "tba"

    @property
    def token_url(self) -> str:
        return self.url("services/rest/auth/oauth2/v1/token")

    def _send(self, method: str, path: str, extra_headers: dict[str, str], kwargs: dict[str, Any]) -> httpx.Response:
        """TBA signs each request (method, URL and query); M2M sends the bearer token."""
        if not self.tba:
            return super()._send(method, path, extra_headers, kwargs)
        url = self.url(path)
        query = [(str(k), str(v)) for k, v in (kwargs.get("params") or {}).items()]
        query += [(k, v[0]) for k, v in parse_qs(urlsplit(url).query).items()]
        header = netsuite_tba.authorization(
            method,
            url,
            query,
            account_id=str(self.config.get("account_id", "")),
            consumer_key=str(self.config.get("consumer_key", "")),
            consumer_secret=str(self.credentials.get("consumer_secret", "")),
            token_id=str(self.credentials.get("token_id", "")),
            token_secret=str(self.credentials.get("token_secret", "")),
        )
        headers = {**self.default_headers(), "Authorization": header, **extra_headers}
        return self.http.request(method, url, headers=headers, **kwargs)

    def fetch_token(self) -> Token | None:
        if self.tba:
            return None
        assertion = client_assertion(
            self.credentials.get("private_key", ""),
            client_id=self.config.get("client_id", ""),
            certificate_id=self.config.get("certificate_id", ""),
            audience=self.token_url,
            scope=self.config.get("scope") or "rest_webservices",
        )
        self.http.add_secret(assertion)
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        }
        return request_token(self, self.token_url, form)

    # --- errors -----------------------------------------------------------------------
    def _detail(self, response: httpx.Response) -> dict[str, Any]:
        body = self.json_or_none(response)
        details = body.get("o:errorDetails") if isinstance(body, dict) else None
        return details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}

    def error_message(self, response: httpx.Response) -> str:
        detail = self._detail(response).get("detail")
        if detail:
            return str(detail)
        body = self.json_or_none(response)
        return (
            str(body.get("title")) if isinstance(body, dict) and body.get("title") else super().error_message(response)
        )

    def error_code(self, response: httpx.Response) -> str | None:
        code = self._detail(response).get("o:errorCode")
        return str(code) if code else None

    def rate_limit_from_response(self, response: httpx.Response) -> ConnectorError | None:
        """429 (the REST concurrency limit), and the governance codes NetSuite also sends
        with a 400 when a request is refused for load rather than for its content."""
        throttled = super().rate_limit_from_response(response)
        if throttled is not None or response.status_code < 400:
            return throttled
        code = self.error_code(response)
        if code in THROTTLE_CODES:
            return ConnectorError(
                f"HTTP {response.status_code}: throttled: {self.error_message(response)}",
                kind="transient",
                status_code=response.status_code,
                vendor_code=code,
            )
        return None

    # --- reads ------------------------------------------------------------------------
    def _record(self, object_name: str) -> tuple[ObjectSpec, str]:
        self.object_spec(object_name)
        return RECORDS[object_name]

    @staticmethod
    def rest_name(object_name: str) -> str:
        return REST_NAMES.get(object_name, object_name)

    def _path(self, object_name: str, ident: str = "") -> str:
        return f"services/rest/record/v1/{self.rest_name(object_name)}" + (f"/{ident}" if ident else "")

    def read(self, object_name: str, remote_id: str) -> dict[str, Any]:
        self._record(object_name)
        return netsuite_values.incoming(
            object_name, json_object(self.request("GET", self._path(object_name, remote_id)))
        )

    def suiteql(self, q: str, *, limit: int, offset: int) -> dict[str, Any]:
        return json_object(
            self.request(
                "POST",
                "services/rest/query/v1/suiteql",
                params={"limit": limit, "offset": offset},
                json={"q": q},
                headers={"Prefer": "transient"},
            )
        )

    def query(
        self, object_name: str, *, since: str | None = None, cursor: str | None = None, page_size: int | None = None
    ) -> Page:
        _spec, table = self._record(object_name)
        limit = min(1000, page_size or int(self.config.get("page_size") or 1000))
        conditions = ["type = 'CustInvc'"] if table == "transaction" else []
        if since:
            stamp = since.replace("T", " ").rstrip("Z")[:19]
            if not _STAMP.match(stamp):  # the watermark is spliced into SuiteQL: digits only
                raise ConnectorError(f"Watermark {since!r} is not an ISO date-time.", kind="permanent")
            conditions.append(f"lastmodifieddate >= TO_TIMESTAMP('{stamp}', 'YYYY-MM-DD HH24:MI:SS')")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        iso = self._iso_columns(object_name, table)
        q = f"SELECT {table}.*, {iso} FROM {table}{where} ORDER BY id"  # noqa: S608 - SuiteQL to the vendor, values checked
        body = self.suiteql(q, limit=limit, offset=int(cursor or 0))
        rows = [self._row(object_name, row) for row in body.get("items", [])]
        next_cursor = None
        if body.get("hasMore"):
            nxt = next((link["href"] for link in body.get("links", []) if link.get("rel") == "next"), None)
            offset = parse_qs(urlsplit(nxt).query).get("offset", [None])[0] if nxt else None
            next_cursor = offset or str(int(body.get("offset", 0)) + int(body.get("count", len(rows))))
        stamps = [str(r["lastmodifieddate"]) for r in rows if r.get("lastmodifieddate")]
        return Page(rows, next_cursor, max(stamps) if stamps else since)

    def _iso_columns(self, object_name: str, table: str) -> str:
        """SuiteQL answers dates in the account's date format ("1/2/2026"), which neither
        orders nor parses: ask for fixed-form copies (`<column>_iso`) of the change stamp
        and of every date field, and use those."""
        spec = self.objects[object_name]
        dates = [f.name.lower() for f in spec.fields if f.type == "date" and _SQL_NAME.match(f.name.lower())]
        items = [f"TO_CHAR({table}.lastmodifieddate, '{ISO_STAMP}') AS lastmodifieddate{ISO_SUFFIX}"]
        items += [f"TO_CHAR({table}.{col}, '{ISO_DATE}') AS {col}{ISO_SUFFIX}" for col in dates]
        return ", ".join(items)

    @staticmethod
    def _row(object_name: str, row: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in row.items() if k != "links" and not k.endswith(ISO_SUFFIX)}
        for key, value in row.items():
            if key.endswith(ISO_SUFFIX):
                out[key[: -len(ISO_SUFFIX)]] = value
        return netsuite_values.incoming(object_name, out)

    def find_by_external_ref(self, object_name: str, external_id_field: str, external_id: str) -> WriteResult | None:
        spec, table = self._record(object_name)
        if external_id_field != "externalId":
            return self._find_by_column(spec, table, external_id_field, external_id)
        response = self.request(
            "GET",
            self._path(object_name, f"eid:{quote(external_id, safe='')}"),
            params={"fields": "id"},
            raise_for_status=False,
        )
        if response.status_code == 404:
            return None
        self.raise_for_response(response)
        return WriteResult(str(json_object(response).get("id")), False, response.status_code)

    def _find_by_column(self, spec: ObjectSpec, table: str, field: str, value: str) -> WriteResult | None:
        """Any other plain field (an email, an entity id) through SuiteQL; the column must be
        one the object declares, and the value is a quoted literal."""
        if field not in spec.field_names() or field == "id":
            raise ConnectorError(f"NetSuite {spec.name} has no field {field!r} to match on.", kind="permanent")
        literal = value.replace("'", "''")
        where = f"{field.lower()} = '{literal}'" + (" AND type = 'CustInvc'" if table == "transaction" else "")
        rows = self.suiteql(f"SELECT id FROM {table} WHERE {where}", limit=2, offset=0).get("items", [])  # noqa: S608
        if len(rows) > 1:
            raise ConnectorError(f"More than one NetSuite {spec.name} has {field} {value!r}.", kind="permanent")
        return WriteResult(str(rows[0]["id"]), False, 200) if rows else None

    # --- writes -----------------------------------------------------------------------
    def _location_id(self, response: httpx.Response) -> str:
        match = _LOCATION_ID.search(response.headers.get("Location", ""))
        if not match:
            raise ConnectorError(
                "NetSuite accepted the write but sent no record Location.",
                kind="permanent",
                status_code=response.status_code,
                ambiguous=True,
            )
        return match.group(1)

    def create(self, object_name: str, record: dict[str, Any], *, idempotency_key: str | None = None) -> WriteResult:
        """With a key: an asynchronous request named by it, so a retry after a lost answer
        finds the first job instead of posting again. Without one: a plain POST."""
        self._record(object_name)
        body = netsuite_values.outgoing(object_name, record)
        if idempotency_key:
            response = netsuite_async.submit(self, "POST", self._path(object_name), body, idempotency_key)
        else:
            response = self.request("POST", self._path(object_name), json=body)
        return WriteResult(self._location_id(response), True, response.status_code, self.excerpt(response))

    def update(self, object_name: str, remote_id: str, record: dict[str, Any]) -> WriteResult:
        self._record(object_name)
        body = netsuite_values.outgoing(object_name, record)
        response = self.request("PATCH", self._path(object_name, remote_id), json=body)
        return WriteResult(remote_id, False, response.status_code, self.excerpt(response))

    def idempotent_upsert(self, object_name: str, external_id_field: str) -> bool:
        """PUT …/eid:<externalId> creates or replaces in one request."""
        return external_id_field == "externalId" and self.supports(object_name, "upsert")

    def upsert(
        self,
        object_name: str,
        external_id_field: str,
        external_id: str,
        record: dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> WriteResult:
        self._record(object_name)
        if external_id_field != "externalId":
            return super().upsert(object_name, external_id_field, external_id, record, idempotency_key=idempotency_key)
        # Synchronous and idempotent by itself (no key: NetSuite would ignore it). NetSuite
        # answers 204 whether PUT eid: created or updated, so `created` is not known.
        body = netsuite_values.outgoing(object_name, record)
        response = self.request("PUT", self._path(object_name, f"eid:{quote(external_id, safe='')}"), json=body)
        return WriteResult(self._location_id(response), False, response.status_code, self.excerpt(response))

    # --- connection test ------------------------------------------------------------------
    def test(self) -> CheckResult:
        started = time.monotonic()
        checks = netsuite_checks(self)
        elapsed = int((time.monotonic() - started) * 1000)
        failed = [c for c in checks if not c.ok]
        message = failed[0].detail if failed else "OK"
        return CheckResult(not failed, elapsed, message, checks)
