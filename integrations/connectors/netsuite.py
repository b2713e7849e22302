"""Oracle NetSuite SuiteTalk REST connector.

Auth: OAuth 2.0 machine-to-machine — a client-credentials grant whose client assertion is
a JWT signed with the integration's certificate key (PS256, `kid` = certificate ID) —
posted to `/services/rest/auth/oauth2/v1/token`; the bearer token is cached and fetched
again once on a 401. Records live under `/services/rest/record/v1/<type>`: create answers
204 + `Location`; `PUT <type>/eid:<externalId>` is the native upsert; writes carry
`X-NetSuite-Idempotency-Key` when the caller has a key. Polling uses SuiteQL
(`POST /services/rest/query/v1/suiteql`, `Prefer: transient`, `limit`/`offset`, `hasMore`).
Errors are RFC 9457-style bodies with `o:errorDetails[{detail, o:errorCode}]`; the
account's concurrency limit answers 429 (CONCURRENCY_LIMIT_EXCEEDED).
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

from integrations.connectors.base import Connector, FieldSpec, ObjectSpec, Page, Token, WriteResult
from integrations.connectors.errors import ConnectorError
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
            ("hours", "number"),
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
# Refusals for load, not content: retry later (RESTlet/SuiteScript governance and REST concurrency).
THROTTLE_CODES = frozenset({"CONCURRENCY_LIMIT_EXCEEDED", "SSS_REQUEST_LIMIT_EXCEEDED", "SSS_REQUEST_TIME_EXCEEDED"})
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")
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
    supports_idempotency_key = True
    test_path = "services/rest/record/v1/metadata-catalog"
    auth_fields = (F("private_key", "secret", True, "Certificate private key (PEM)"),)
    config_fields = (
        F("account_id", "string", True, "Account ID", help="e.g. 1234567 or 1234567_SB1"),
        F("client_id", "string", True, "Client ID (integration record)"),
        F("certificate_id", "string", True, "Certificate ID", help="From the OAuth 2.0 client credentials setup."),
        F("scope", "string", False, "Scopes", default="rest_webservices"),
        F("page_size", "integer", False, "SuiteQL page size (≤1000)", default=1000),
    )
    objects = {name: spec for name, (spec, _table) in RECORDS.items()}

    @property
    def token_url(self) -> str:
        return self.url("services/rest/auth/oauth2/v1/token")

    def fetch_token(self) -> Token | None:
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

    def read(self, object_name: str, remote_id: str) -> dict[str, Any]:
        self._record(object_name)
        return json_object(self.request("GET", f"services/rest/record/v1/{object_name}/{remote_id}"))

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
        q = f"SELECT * FROM {table}{where} ORDER BY id"  # noqa: S608 - SuiteQL to the vendor, values checked
        body = self.suiteql(q, limit=limit, offset=int(cursor or 0))
        rows = [{k: v for k, v in row.items() if k != "links"} for row in body.get("items", [])]
        next_cursor = None
        if body.get("hasMore"):
            nxt = next((link["href"] for link in body.get("links", []) if link.get("rel") == "next"), None)
            offset = parse_qs(urlsplit(nxt).query).get("offset", [None])[0] if nxt else None
            next_cursor = offset or str(int(body.get("offset", 0)) + int(body.get("count", len(rows))))
        stamps = [str(r["lastmodifieddate"]) for r in rows if r.get("lastmodifieddate")]
        return Page(rows, next_cursor, max(stamps) if stamps else since)

    def find_by_external_ref(self, object_name: str, external_id_field: str, external_id: str) -> WriteResult | None:
        spec, table = self._record(object_name)
        if external_id_field != "externalId":
            return self._find_by_column(spec, table, external_id_field, external_id)
        response = self.request(
            "GET",
            f"services/rest/record/v1/{object_name}/eid:{quote(external_id, safe='')}",
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
    def _write_headers(self, idempotency_key: str | None) -> dict[str, str]:
        return {"X-NetSuite-Idempotency-Key": idempotency_key} if idempotency_key else {}

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
        self._record(object_name)
        response = self.request(
            "POST", f"services/rest/record/v1/{object_name}", json=record, headers=self._write_headers(idempotency_key)
        )
        return WriteResult(self._location_id(response), True, response.status_code, self.excerpt(response))

    def update(self, object_name: str, remote_id: str, record: dict[str, Any]) -> WriteResult:
        self._record(object_name)
        response = self.request("PATCH", f"services/rest/record/v1/{object_name}/{remote_id}", json=record)
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
        # NetSuite answers 204 whether PUT eid: created or updated; the sandbox (like the
        # real service) does not say which, so `created` reports only what is known.
        response = self.request(
            "PUT",
            f"services/rest/record/v1/{object_name}/eid:{quote(external_id, safe='')}",
            json=record,
            headers=self._write_headers(idempotency_key),
        )
        return WriteResult(self._location_id(response), False, response.status_code, self.excerpt(response))
