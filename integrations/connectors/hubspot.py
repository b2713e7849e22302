"""HubSpot CRM v3 connector.

Auth: a private-app access token (static bearer), or OAuth 2.0 with a refresh token
exchanged at `/oauth/v1/token` (tokens live `expires_in` seconds; refreshed once on 401).
Objects are addressed by name (`deals`, `companies`, `contacts`); property values are
strings. Lists page with `paging.next.after`; polls use `/search` on the last-modified
property, reaching SEARCH_OVERLAP_MS behind the watermark because search indexes changes a
few moments late (https://developers.hubspot.com/docs/guides/api/crm/search) — the poll's
intake deduplicates what the overlap reads again — and keep to search's own four requests
per second (hubspot_batch.py). Upserts are `batch/upsert` with `idProperty` (one call,
`new` says created); a 207 answer's failed inputs become one error each.
Webhooks are verified with signature v3 (base64 HMAC-SHA256 of method + URI + body +
timestamp, 5-minute window). Throttling: 429 with `X-HubSpot-RateLimit-*` headers.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

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
from integrations.connectors.errors import ConnectorError, EventInvalid, WebhookRejected, parse_retry_after
from integrations.connectors.hubspot_batch import BatchUpsert, SearchPace, record_error
from integrations.connectors.payloads import json_object
from integrations.connectors.redaction import redact_text
from integrations.connectors.token_grant import request_token
from integrations.connectors.webhooks import check_timestamp, hmac_sha256, lower_headers, matches_any

LIST_LIMIT, SEARCH_LIMIT = 100, 200
# How far behind its watermark a search poll starts: longer than search's indexing delay
# ("a few moments"; the exact figure is not documented).
SEARCH_OVERLAP_MS = 60_000
# Where HubSpot's policies reset when no Retry-After is sent.
POLICY_WINDOWS = {"SECONDLY": 1.0, "TEN_SECONDLY_ROLLING": 10.0}
DAILY_RETRY_SECONDS = 3600.0
WEBHOOK_BATCH_MAX = 100  # events per webhook request (https://developers.hubspot.com/docs/api/webhooks)

OBJECTS = {
    "deals": ObjectSpec(
        "deals",
        "Deals",
        (
            FieldSpec("dealname", required=True, label="Deal name"),
            FieldSpec("amount", "number"),
            FieldSpec("dealstage", required=True, label="Deal stage"),
            FieldSpec("pipeline"),
            FieldSpec("closedate", "datetime", label="Close date"),
            FieldSpec("hubspot_owner_id", label="Owner id"),
            FieldSpec("deal_currency_code", label="Currency"),
            FieldSpec("region"),
            FieldSpec("psa_project_id", label="PSA project id"),
            FieldSpec("erp_project_id", label="ERP project id"),
            FieldSpec("last_invoice_number", label="Last invoice number"),
            FieldSpec("last_invoice_status", label="Last invoice status"),
            FieldSpec("last_invoice_amount", "number", label="Last invoice amount"),
            FieldSpec("last_invoice_currency", label="Last invoice currency"),
            FieldSpec("last_invoice_date", "date", label="Last invoice date"),
            FieldSpec("last_invoice_paid_date", "date", label="Last invoice paid date"),
            FieldSpec("external_id", label="External id"),
            FieldSpec("createdate", "datetime"),
            FieldSpec("hs_lastmodifieddate", "datetime", label="Last modified"),
        ),
        external_id_fields=("external_id",),
    ),
    "companies": ObjectSpec(
        "companies",
        "Companies",
        (
            FieldSpec("name", required=True),
            FieldSpec("domain"),
            FieldSpec("industry"),
            FieldSpec("country"),
            FieldSpec("erp_customer_id", label="ERP customer id"),
            FieldSpec("createdate", "datetime"),
            FieldSpec("hs_lastmodifieddate", "datetime", label="Last modified"),
        ),
        external_id_fields=("erp_customer_id",),
    ),
    "contacts": ObjectSpec(
        "contacts",
        "Contacts",
        (
            FieldSpec("email", required=True),
            FieldSpec("firstname"),
            FieldSpec("lastname"),
            FieldSpec("jobtitle"),
            FieldSpec("associatedcompanyid", label="Company id"),
            FieldSpec("createdate", "datetime"),
            FieldSpec("lastmodifieddate", "datetime", label="Last modified"),
        ),
        external_id_fields=("email",),
    ),
}
# What a read side-loads, so a mapping can reach the deal's or contact's company.
ASSOCIATED = {"deals": "companies", "contacts": "companies"}
# Contacts name their last-modified property differently from the other objects.
MODIFIED_PROPERTY = {"contacts": "lastmodifieddate"}

# Characters HubSpot decodes in the URI before signing (request-validation docs).
_URI_DECODE = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'", "%28": "(",
               "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}  # fmt: skip


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    for encoded, char in _URI_DECODE.items():
        uri = uri.replace(encoded, char).replace(encoded.lower(), char)
    message = f"{method.upper()}{uri}".encode() + body + timestamp.encode()
    return base64.b64encode(hmac_sha256(secret.encode(), message)).decode()


def _epoch_ms(value: str) -> str:
    """A watermark (ISO datetime or epoch ms) as the epoch milliseconds search expects."""
    text = str(value).strip()
    if text.isdigit():
        return text
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConnectorError(f"Watermark {value!r} is not a datetime.", kind="permanent") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return str(int(moment.timestamp() * 1000))


class HubSpotConnector(Connector):
    kind = "hubspot"
    label = "HubSpot"
    auth_fields = (
        FieldSpec("access_token", "secret", label="Private app access token",
                  help="Or leave empty and use OAuth (client secret + refresh token)."),
        FieldSpec("client_secret", "secret", help="App client secret: OAuth and webhook signature v3."),
        FieldSpec("refresh_token", "secret", help="OAuth only."),
    )  # fmt: skip
    config_fields = (
        FieldSpec("client_id", help="OAuth only."),
        FieldSpec("token_url", "url", help="Default: <base URL>/oauth/v1/token."),
        FieldSpec("webhook_url", "url", label="Webhook URL",
                  help="The target URL registered in the HubSpot app; HubSpot signs it."),
    )  # fmt: skip
    objects = OBJECTS
    test_path = "crm/v3/objects/companies?limit=1"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rate_limit: dict[str, str] = {}  # the last X-HubSpot-RateLimit-* headers seen

    @property
    def uses_oauth(self) -> bool:
        return bool(self.credentials.get("refresh_token")) and not self.credentials.get("access_token")

    def fetch_token(self) -> Token | None:
        if not self.uses_oauth:
            return None  # a private-app token is static: a 401 means it is wrong or revoked
        form = {"grant_type": "refresh_token", "client_id": self.config.get("client_id", ""),
                "client_secret": self.credentials.get("client_secret", ""),
                "refresh_token": self.credentials["refresh_token"]}  # fmt: skip
        return request_token(self, self.config.get("token_url") or f"{self.base_url}/oauth/v1/token", form)

    def auth_headers(self, token: Token | None) -> dict[str, str]:
        if token is not None:
            return super().auth_headers(token)
        return {"Authorization": f"Bearer {self.credentials.get('access_token', '')}"}

    # --- answers ---------------------------------------------------------------------
    def raise_for_response(self, response: httpx.Response) -> None:
        seen = {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("x-hubspot-ratelimit-")}
        if seen:
            self.rate_limit = seen
        super().raise_for_response(response)

    def error_message(self, response: httpx.Response) -> str:
        body = self.json_or_none(response)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            details = [str(e["message"]) for e in body.get("errors") or [] if isinstance(e, dict) and e.get("message")]
            category = f"{body['category']}: " if body.get("category") else ""
            extra = f" ({'; '.join(details)})" if details and details != [body["message"]] else ""
            return f"{category}{body['message']}{extra}"
        return super().error_message(response)

    def error_code(self, response: httpx.Response) -> str | None:
        body = self.json_or_none(response)
        if isinstance(body, dict):
            return body.get("category") or body.get("errorType")
        return None

    def rate_limit_from_response(self, response: httpx.Response) -> ConnectorError | None:
        if response.status_code != 429:
            return super().rate_limit_from_response(response)
        body = self.json_or_none(response) or {}
        policy = str(body.get("policyName") or "") if isinstance(body, dict) else ""
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        interval = response.headers.get("x-hubspot-ratelimit-interval-milliseconds", "")
        if retry_after is not None:
            pass
        elif policy == "DAILY" or response.headers.get("x-hubspot-ratelimit-daily-remaining") == "0":
            retry_after = DAILY_RETRY_SECONDS
        elif policy == "SECONDLY":
            retry_after = POLICY_WINDOWS["SECONDLY"]
        elif interval.isdigit():  # a rolling window frees up within one interval
            retry_after = int(interval) / 1000
        else:
            retry_after = POLICY_WINDOWS.get(policy)
        message = redact_text(self.error_message(response), self.http.secrets)
        return ConnectorError(f"HTTP 429: throttled: {message}", kind="transient", status_code=429,
                              retry_after=retry_after, vendor_code=policy or "RATE_LIMIT")  # fmt: skip

    # --- operations ------------------------------------------------------------------
    def _path(self, object_name: str, suffix: str = "") -> str:
        self.object_spec(object_name)
        return f"crm/v3/objects/{object_name}{suffix}"

    def _properties(self, object_name: str) -> str:
        return ",".join(self.object_spec(object_name).field_names())

    @staticmethod
    def _props(record: dict[str, Any]) -> dict[str, Any]:
        """Callers may pass {'properties': {...}} or the properties themselves; HubSpot wants strings."""
        props = record.get("properties", record) if isinstance(record.get("properties"), dict) else record
        return {k: "" if v is None else v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in props.items()}  # fmt: skip

    def read(self, object_name: str, remote_id: str) -> dict[str, Any]:
        """The object with its associated company ids (`associations.companies.results`)."""
        params = {"properties": self._properties(object_name)}
        if object_name in ASSOCIATED:
            params["associations"] = ASSOCIATED[object_name]
        return json_object(self.request("GET", self._path(object_name, f"/{quote(remote_id, safe='')}"), params=params))

    def query(self, object_name: str, *, since: str | None = None, cursor: str | None = None,
              page_size: int | None = None) -> Page:  # fmt: skip
        modified = MODIFIED_PROPERTY.get(object_name, "hs_lastmodifieddate")
        if since:
            # GTE: the boundary millisecond is read again rather than missed (the intake deduplicates).
            start = max(0, int(_epoch_ms(since)) - SEARCH_OVERLAP_MS)
            newer = {"propertyName": modified, "operator": "GTE", "value": str(start)}
            body = {
                "filterGroups": [{"filters": [newer]}],
                "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
                "properties": self.object_spec(object_name).field_names(),
                "limit": min(page_size or SEARCH_LIMIT, SEARCH_LIMIT),
            }
            if cursor:
                body["after"] = cursor
            SearchPace.wait(self._account())
            data = self.request("POST", self._path(object_name, "/search"), json=body).json()
        else:
            params = {"limit": min(page_size or LIST_LIMIT, LIST_LIMIT), "properties": self._properties(object_name)}
            if cursor:
                params["after"] = cursor
            data = self.request("GET", self._path(object_name), params=params).json()
        records = data.get("results") or []
        stamps = [r.get("properties", {}).get(modified) or r.get("updatedAt") for r in records]
        stamps = [s for s in stamps if s]
        after = ((data.get("paging") or {}).get("next") or {}).get("after")
        newest = max(stamps, key=_epoch_ms_int) if stamps else since
        if since and newest and _epoch_ms_int(newest) < _epoch_ms_int(since):
            newest = since  # the overlap only re-read older changes: the watermark never goes back
        return Page(records, str(after) if after else None, newest)

    def create(self, object_name: str, record: dict[str, Any], *, idempotency_key: str | None = None) -> WriteResult:
        body = {"properties": self._props(record)}
        if isinstance(record.get("associations"), list):
            body["associations"] = record["associations"]
        response = self.request("POST", self._path(object_name), json=body)
        return WriteResult(str(response.json().get("id")), True, response.status_code, self.excerpt(response))

    def update(self, object_name: str, remote_id: str, record: dict[str, Any]) -> WriteResult:
        path = self._path(object_name, f"/{quote(remote_id, safe='')}")
        response = self.request("PATCH", path, json={"properties": self._props(record)})
        return WriteResult(remote_id, False, response.status_code, self.excerpt(response))

    def find_by_external_ref(self, object_name: str, external_id_field: str, external_id: str) -> WriteResult | None:
        path = self._path(object_name, f"/{quote(str(external_id), safe='')}")
        response = self.request("GET", path, params={"idProperty": external_id_field}, raise_for_status=False)
        if response.status_code == 404:
            return None
        self.raise_for_response(response)
        return WriteResult(str(response.json().get("id")), False, response.status_code, self.excerpt(response))

    def idempotent_upsert(self, object_name: str, external_id_field: str) -> bool:
        """batch/upsert with `idProperty` (a unique property) creates or updates by that value."""
        return True

    def upsert(self, object_name: str, external_id_field: str, external_id: str, record: dict[str, Any], *,
               idempotency_key: str | None = None) -> WriteResult:  # fmt: skip
        outcome = self.upsert_many(object_name, external_id_field, {str(external_id): record})
        if str(external_id) in outcome.errors:
            raise outcome.errors[str(external_id)]
        return outcome.results[str(external_id)]

    def upsert_many(self, object_name: str, external_id_field: str, records: dict[str, dict[str, Any]]) -> BatchUpsert:
        """One batch upsert of {external id: record}: what was written, and each input's own
        error when HubSpot answers 207 Multi-Status."""
        inputs = [{"idProperty": external_id_field, "id": ext_id,
                   "properties": {k: v for k, v in self._props(rec).items() if k != external_id_field}}
                  for ext_id, rec in records.items()]  # fmt: skip
        response = self.request("POST", self._path(object_name, "/batch/upsert"), json={"inputs": inputs})
        data = json_object(response)
        outcome, excerpt = BatchUpsert(), self.excerpt(response)
        results = [r for r in data.get("results") or [] if isinstance(r, dict)]
        by_id = {str((r.get("properties") or {}).get(external_id_field) or ""): r for r in results}
        for entry in data.get("errors") or []:
            if isinstance(entry, dict):
                ext_id, error, prop = record_error(entry, response.status_code)
                outcome.errors[ext_id], outcome.fields[ext_id] = error, prop
        written = [ext_id for ext_id in records if ext_id not in outcome.errors]
        # Results name their input by the id property; failing that, they are taken in input order
        # only when there is exactly one per written input [unverified: HubSpot keeps the order].
        in_order = dict(zip(written, results, strict=False)) if len(results) == len(written) else {}
        for ext_id in written:
            found = by_id.get(ext_id) or in_order.get(ext_id)
            if found is None:  # neither written nor reported: never assume success
                status = response.status_code
                outcome.errors[ext_id] = ConnectorError(f"HTTP {status}: HubSpot did not report input {ext_id}.",
                                                        kind="permanent", status_code=status,
                                                        vendor_code="BATCH_INCOMPLETE")  # fmt: skip
                continue
            outcome.results[ext_id] = WriteResult(str(found.get("id")), bool(found.get("new")), response.status_code,
                                                  excerpt)  # fmt: skip
        return outcome

    def _account(self) -> str:
        """Whose search allowance a search spends: the connection's token, or its OAuth refresh token."""
        return str(self.connection.pk or self.base_url)

    # --- the connection test -----------------------------------------------------------
    def test(self) -> CheckResult:
        """Token, access to each object (its read scope), and the daily allowance left."""
        started, checks = time.monotonic(), list[NamedCheck]()
        scheme = "OAuth app" if self.uses_oauth else "private app token"
        for name in self.objects:
            label = f"{name.capitalize()} access"
            try:
                self.request("GET", self._path(name), params={"limit": 1})
            except ConnectorError as exc:
                if exc.status_code != 403:  # not a missing scope: the token itself, or HubSpot, failed
                    checks.insert(0, NamedCheck("Token", False, f"HubSpot refused the {scheme}: {exc.message}"))
                    return CheckResult(False, _ms(started), exc.message, checks)
                hint = f"give the app the crm.objects.{name}.read scope"
                checks.append(NamedCheck(label, False, f"Cannot read {name} ({exc.message}): {hint}."))
                continue
            checks.append(NamedCheck(label, True, f"Can read {name}."))
        checks.insert(0, NamedCheck("Token", True, f"HubSpot accepted the {scheme}."))
        left, daily = (self.rate_limit.get(f"x-hubspot-ratelimit-{h}") for h in ("daily-remaining", "daily"))
        if left is not None:
            checks.append(NamedCheck("Daily limit", left != "0", f"{left} of {daily} daily API calls left."))
        failed = [c for c in checks if not c.ok]
        return CheckResult(not failed, _ms(started), failed[0].detail if failed else "OK", checks)

    # --- webhooks --------------------------------------------------------------------
    def webhook_url(self) -> str:
        """The URL HubSpot signs: configured, else this app's /hooks/<connection>/ endpoint."""
        if self.config.get("webhook_url"):
            return str(self.config["webhook_url"])
        origin = getattr(settings, "SWITCHBOARD_PUBLIC_URL", "") or settings.SWITCHBOARD_SANDBOX_ORIGIN
        return f"{origin.rstrip('/')}/hooks/{self.connection.name}/"

    def webhook_events(self, headers: Mapping[str, str], body: bytes) -> list[tuple[str, str, dict[str, Any]]]:
        """(type, dedupe id, payload) per event in the request, for the event intake. HubSpot
        posts a JSON array of up to 100 events and retries the same eventIds (attemptNumber + 1),
        so each event is stored on its own under its eventId: a re-sent batch stores nothing
        twice (https://developers.hubspot.com/docs/api/webhooks, "Webhook payloads")."""
        events = json.loads(body or b"null")
        if isinstance(events, dict):
            events = [events]
        if not isinstance(events, list) or not events:
            raise EventInvalid("body", "must be a JSON array of HubSpot events")
        if len(events) > WEBHOOK_BATCH_MAX:
            raise EventInvalid("body", f"HubSpot sends at most {WEBHOOK_BATCH_MAX} events per request")
        return [_webhook_entry(i, e) for i, e in enumerate(events)]

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, *, method: str = "POST",
                       url: str | None = None) -> None:  # fmt: skip
        """Signature v3 over the URL HubSpot was given (config `webhook_url`, or `url`)."""
        secret = self.credentials.get("client_secret", "")
        if not secret:
            raise WebhookRejected("no client secret is configured to verify HubSpot signatures")
        uri = url or self.webhook_url()
        h = lower_headers(headers)
        signature, stamp = h.get("x-hubspot-signature-v3"), h.get("x-hubspot-request-timestamp")
        if not signature:
            raise WebhookRejected("missing X-HubSpot-Signature-v3 header")
        check_timestamp(stamp, milliseconds=True)
        if not matches_any(signature_v3(secret, method, uri, body, stamp or ""), [signature]):
            raise WebhookRejected("signature does not match")


def _webhook_entry(index: int, entry: object) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(entry, dict):
        raise EventInvalid(f"body[{index}]", "must be a HubSpot event object")
    event_id = entry.get("eventId")
    if event_id is None or isinstance(event_id, bool | dict | list) or not str(event_id).strip():
        raise EventInvalid(f"body[{index}].eventId", "is required (HubSpot's id for the event)")
    return str(entry.get("subscriptionType") or "webhook"), str(event_id), entry


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _epoch_ms_int(value: str) -> int:
    try:
        return int(_epoch_ms(value))
    except ConnectorError:
        return 0


__all__ = ["HubSpotConnector", "signature_v3"]
