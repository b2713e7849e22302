"""Kantata OX (Mavenlink API v1) connector.

Auth: an OAuth 2.0 bearer token from the authorization-code grant. Kantata tokens do not
expire, so there is nothing to refresh: a 401 means the token was revoked (permanent).
Answers use Kantata's normalised envelope (`results: [{key, id}]` plus an id map per key);
lists page with `page`/`per_page` (at most 200); polls filter `updated_after` ordered by
`updated_at`. Kantata has no idempotency keys and no upsert, so `upsert` looks the record
up through an external reference first and creates the record with its reference nested
(`external_references_attributes`) in the same request. Throttling is a bare 429.

Look-ups use the subject index's `external_reference_service_name / _service_model /
_service_model_ref` filters with `include=external_references`, and a record counts only
if one of its references carries all three values: a filter Kantata ignores (Rails drops
unknown parameters) would otherwise hand back unrelated records, and rows[0] would be
updated by mistake. `approved` on a time entry is read only (set by an approved timesheet)
and its index filter ignores the value given, always selecting approved entries
(https://developer.kantata.com/kantata/specification/time-entries/get-time-entries).

Users are not created through `/users`: an integration adds one to the account with an
account invitation (`POST /account_invitations`, "Adds a user to your account"; the answer's
`invitee_id` is the new user, https://developer.kantata.com/kantata/specification/account-invitations/create-account-invitation),
changes the profile (name, headline) with `PUT /users/{id}`
(https://developer.kantata.com/kantata/specification/users/update-user), rates and permission
on the account membership (`PUT /account_memberships/{id}`,
https://developer.kantata.com/kantata/specification/account-memberships/update-account-membership),
makes the user inactive with `PUT /account_memberships/{id}/disable` and active again with
`/enable` (https://developer.kantata.com/kantata/specification/account-memberships/deactivate-account-membership;
the endpoint map: https://knowledge.kantata.com/hc/en-us/articles/32608719669403-API-Quick-Reference-Managing-Users).
So `users` upserts by `email_address`: the account member with that address — an active one
on the users index (`by_email_address`, `on_my_account`), else a disabled one through the
inactive memberships, the address checked on each record — is updated, else invited;
`disabled: true` disables the membership and finds nothing to do for an address Kantata
does not know (a leaver is never invited); `disabled: false` enables a disabled one (a rehire).
`update` by the user's id (a worker the crosswalk already links to a Kantata user) changes that
user the same way, and an `email_address` that differs from the user's is changed on its
profile: `PUT /users/{id}` takes "name, headline, or email address" (the update-user page and
the managing-users article above), so a changed work e-mail moves with the user instead of
inviting a second one.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

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
from integrations.connectors.redaction import redact_text

MAX_PER_PAGE = 200
# Kantata sends no Retry-After: "retry after a small delay". Maintenance lasts longer.
THROTTLE_RETRY_SECONDS = 10.0
UNAVAILABLE_RETRY_SECONDS = 30.0
SERVICE_NAME = "switchboard"

_STAMPS = (FieldSpec("created_at", "datetime"), FieldSpec("updated_at", "datetime"))
# The account permission levels an invitation or membership takes
# (https://developer.kantata.com/kantata/specification/account-invitations/update-account-invitation).
PERMISSIONS = ("administrator", "reports_viewer_with_cost", "reports_viewer", "project_lead", "project_creator",
               "collaborator", "punch_clock")  # fmt: skip
# What a user's account membership carries; the rest of a users record is the invitation's.
MEMBERSHIP_FIELDS = ("permission", "cost_rate_in_cents", "bill_rate_in_cents")
PROFILE_FIELDS = ("full_name", "headline")  # PUT /users/{id}, with `email_address` (compared case-blind)
INVITATION_FIELDS = ("email_address", *PROFILE_FIELDS, *MEMBERSHIP_FIELDS)
OBJECTS = {
    "workspaces": ObjectSpec("workspaces", "Workspaces (projects)", (
        FieldSpec("title", required=True), FieldSpec("description"),
        FieldSpec("creator_role", required=True, choices=("maven", "buyer")), FieldSpec("budgeted", "boolean"),
        FieldSpec("price", "number"), FieldSpec("currency"), FieldSpec("start_date", "date"),
        FieldSpec("due_date", "date"), FieldSpec("archived", "boolean"), *_STAMPS,
    ), external_id_fields=("opportunity", "project")),
    "time_entries": ObjectSpec("time_entries", "Time entries", (
        FieldSpec("workspace_id", required=True), FieldSpec("user_id"), FieldSpec("story_id"),
        FieldSpec("date_performed", "date", required=True), FieldSpec("time_in_minutes", "integer", required=True),
        FieldSpec("billable", "boolean"), FieldSpec("notes"), FieldSpec("rate_in_cents", "integer"),
        FieldSpec("approved", "boolean", help="Read only: set when the timesheet is approved."),
        FieldSpec("is_invoiced", "boolean"), *_STAMPS,
    ), external_id_fields=("timesheet",)),
    "stories": ObjectSpec("stories", "Stories (tasks, milestones)", (
        FieldSpec("workspace_id", required=True), FieldSpec("title", required=True),
        FieldSpec("story_type", choices=("task", "milestone", "deliverable", "issue")), FieldSpec("state"),
        FieldSpec("start_date", "date"), FieldSpec("due_date", "date"), FieldSpec("assignee_ids", "array"),
        FieldSpec("time_estimate_in_minutes", "integer"), FieldSpec("billable", "boolean"), *_STAMPS,
    ), external_id_fields=("task",)),
    "participations": ObjectSpec("participations", "Participations (project members)", (
        FieldSpec("workspace_id", required=True), FieldSpec("user_id", required=True),
        FieldSpec("role", required=True, choices=("maven", "buyer")), FieldSpec("permission"),
        FieldSpec("is_team_lead", "boolean"), *_STAMPS,
    ), actions=("read", "query", "create", "update")),
    "expenses": ObjectSpec("expenses", "Expenses", (
        FieldSpec("workspace_id", required=True), FieldSpec("user_id"), FieldSpec("date", "date", required=True),
        FieldSpec("category", required=True), FieldSpec("amount_in_cents", "integer", required=True),
        FieldSpec("currency"), FieldSpec("billable", "boolean"), FieldSpec("notes"),
        FieldSpec("is_invoiced", "boolean"), *_STAMPS,
    ), external_id_fields=("expense",)),
    "invoices": ObjectSpec("invoices", "Invoices", (
        FieldSpec("number"), FieldSpec("workspace_ids", "array"), FieldSpec("invoice_date", "date"),
        FieldSpec("due_date", "date"), FieldSpec("status"), FieldSpec("draft", "boolean"), FieldSpec("paid", "boolean"),
        FieldSpec("balance_in_cents", "integer"), FieldSpec("currency"), *_STAMPS,
    ), actions=("read", "query")),
    "users": ObjectSpec("users", "Users (account members)", (
        FieldSpec("full_name", required=True),
        FieldSpec("email_address", required=True), FieldSpec("headline"),
        FieldSpec("permission", choices=PERMISSIONS), FieldSpec("cost_rate_in_cents", "integer"),
        FieldSpec("bill_rate_in_cents", "integer"),
        FieldSpec("disabled", "boolean", help="true: the account membership is disabled, the user can no longer sign "
                                              "in; false: a disabled membership is enabled again."),
        FieldSpec("account_membership_id", help="Read only."), *_STAMPS,
    ), actions=("read", "query", "create", "update", "upsert"), external_id_fields=("email_address",)),
}  # fmt: skip
SINGULAR = {
    "workspaces": "workspace", "time_entries": "time_entry", "stories": "story", "participations": "participation",
    "users": "user", "external_references": "external_reference", "expenses": "expense", "invoices": "invoice",
}  # fmt: skip
SUBJECT_TYPES = {"workspaces": "Workspace", "time_entries": "TimeEntry", "stories": "Story", "expenses": "Expense"}
# Attributes Kantata sets itself: a write naming them is refused here rather than silently ignored there.
READ_ONLY = {"time_entries": ("approved", "is_invoiced", "invoice_id")}


class KantataConnector(Connector):
    kind = "kantata"
    label = "Kantata OX"
    auth_fields = (FieldSpec("access_token", "secret", True, "OAuth access token",
                             help="From the authorization-code grant; Kantata tokens do not expire."),)  # fmt: skip
    config_fields = (
        FieldSpec("service_name", default=SERVICE_NAME, label="External reference service",
                  help="service_name on the external references Switchboard writes."),
    )  # fmt: skip
    objects = OBJECTS
    test_path = "api/v1/users.json?per_page=1"

    def auth_headers(self, token: Token | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials.get('access_token', '')}"}

    # --- answers ---------------------------------------------------------------------
    def _errors(self, response: httpx.Response) -> list[dict[str, Any]]:
        body = self.json_or_none(response)
        errors = body.get("errors") if isinstance(body, dict) else None
        return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []

    def error_message(self, response: httpx.Response) -> str:
        errors = self._errors(response)
        if not errors:
            return super().error_message(response)
        return "; ".join(f"{e['field']}: {e.get('message', '')}" if e.get("field") else str(e.get("message", ""))
                         for e in errors)  # fmt: skip

    def error_code(self, response: httpx.Response) -> str | None:
        errors = self._errors(response)
        return errors[0].get("type") if errors else None

    def rate_limit_from_response(self, response: httpx.Response) -> ConnectorError | None:
        status = response.status_code
        if status not in (429, 503):
            return None
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is None:
            retry_after = THROTTLE_RETRY_SECONDS if status == 429 else UNAVAILABLE_RETRY_SECONDS
        label = "throttled" if status == 429 else "unavailable"
        message = f"HTTP {status}: {label}: {redact_text(self.error_message(response), self.http.secrets)}"
        return ConnectorError(message, kind="transient", status_code=status, retry_after=retry_after,
                              vendor_code=self.error_code(response))  # fmt: skip

    # --- the connection test -----------------------------------------------------------
    def test(self) -> CheckResult:
        """Token, then read access to what the flows use: workspaces, time entries, and the
        external references upserts look records up by."""
        started, checks = time.monotonic(), list[NamedCheck]()
        try:
            self.request("GET", self._path("users"), params={"per_page": 1})
        except ConnectorError as exc:
            hint = " Get a new token through the authorization-code grant." if exc.status_code == 401 else ""
            checks.append(NamedCheck("Token", False, f"Kantata refused the token: {exc.message}.{hint}"))
            return CheckResult(False, _ms(started), exc.message, checks)
        checks.append(NamedCheck("Token", True, "Kantata accepted the OAuth token (Kantata tokens do not expire)."))
        probes: list[tuple[str, str, dict[str, str]]] = [
            ("Workspaces access", "workspaces", {}),
            ("Time entries access", "time_entries", {}),
            ("External references", "external_references", {"subject_type": "Workspace"}),
        ]
        for label, key, params in probes:
            try:
                self.request("GET", self._path(key), params={"per_page": 1, **params})
            except ConnectorError as exc:
                checks.append(NamedCheck(label, False, f"Cannot read {key.replace('_', ' ')} ({exc.message}): the "
                                         "token's user needs access to them in Kantata."))  # fmt: skip
                continue
            checks.append(NamedCheck(label, True, f"Can read {key.replace('_', ' ')}."))
        failed = [c for c in checks if not c.ok]
        return CheckResult(not failed, _ms(started), failed[0].detail if failed else "OK", checks)

    # --- envelope --------------------------------------------------------------------
    @staticmethod
    def unwrap(body: dict[str, Any]) -> list[dict[str, Any]]:
        """The records in canonical order: `results` names them, the id maps hold them."""
        return [
            body[r["key"]][str(r["id"])] for r in body.get("results") or [] if str(r["id"]) in body.get(r["key"], {})
        ]

    def _path(self, object_name: str, suffix: str = "") -> str:
        if object_name != "external_references":
            self.object_spec(object_name)
        return f"api/v1/{object_name}{suffix}.json"

    # --- operations ------------------------------------------------------------------
    def read(self, object_name: str, remote_id: str) -> dict[str, Any]:
        records = self.unwrap(self.request("GET", self._path(object_name, f"/{quote(remote_id, safe='')}")).json())
        if not records:
            raise ConnectorError(f"Kantata returned no {object_name} {remote_id}.", kind="permanent", status_code=404)
        return records[0]

    def query(self, object_name: str, *, since: str | None = None, cursor: str | None = None,
              page_size: int | None = None, filters: dict[str, Any] | None = None) -> Page:  # fmt: skip
        page = int(cursor or 1)
        if object_name == "time_entries" and str((filters or {}).get("approved", "true")).lower() in ("false", "0"):
            raise ConnectorError("Kantata's approved filter only selects approved time entries (the value given is "
                                 "ignored); to find unapproved ones, read all and keep those with approved false.",
                                 kind="permanent", vendor_code="UNSUPPORTED_FILTER")  # fmt: skip
        params = {"page": page, "per_page": min(page_size or MAX_PER_PAGE, MAX_PER_PAGE), **(filters or {})}
        if since:
            params.update(updated_after=_second_before(since), order="updated_at:asc")
        body = self.request("GET", self._path(object_name), params=params).json()
        records = self.unwrap(body)
        stamps = [r["updated_at"] for r in records if r.get("updated_at")]
        more = page < int((body.get("meta") or {}).get("page_count") or 1)
        return Page(records, str(page + 1) if more else None, max(stamps) if stamps else since)

    def _writable(self, object_name: str, record: dict[str, Any]) -> dict[str, Any]:
        named = [k for k in READ_ONLY.get(object_name, ()) if k in record]
        if named:
            raise ConnectorError(f"{', '.join(named)}: read only in Kantata {object_name} (time is approved through "
                                 "timesheet submissions, invoiced through invoices).", kind="permanent",
                                 vendor_code="READ_ONLY")  # fmt: skip
        return record

    def create(self, object_name: str, record: dict[str, Any], *, idempotency_key: str | None = None) -> WriteResult:
        if object_name == "users":
            return self._invite(record)
        record = self._writable(object_name, record)
        response = self.request("POST", self._path(object_name), json={SINGULAR[object_name]: record})
        created = self.unwrap(response.json())
        return WriteResult(str(created[0]["id"]) if created else None, True, response.status_code,
                           self.excerpt(response))  # fmt: skip

    def update(self, object_name: str, remote_id: str, record: dict[str, Any]) -> WriteResult:
        if object_name == "users":
            # the member with the user's present address: its membership, and whether it is active
            user = self._member_by_email("email_address", self.read("users", remote_id).get("email_address") or "")
            if user is None or str(user[0].get("id")) != str(remote_id):
                raise ConnectorError(f"Kantata user {remote_id} is not a member of this account.", kind="permanent",
                                     vendor_code="NOT_A_MEMBER")  # fmt: skip
            return self._update_member(*user, record)
        path = self._path(object_name, f"/{quote(remote_id, safe='')}")
        response = self.request("PUT", path, json={SINGULAR[object_name]: self._writable(object_name, record)})
        return WriteResult(remote_id, False, response.status_code, self.excerpt(response))

    def _reference(self, object_name: str, model: str, ref: str) -> dict[str, Any]:
        if object_name not in SUBJECT_TYPES:
            raise ConnectorError(f"Kantata {object_name} cannot carry external references.", kind="permanent")
        return {"subject_type": SUBJECT_TYPES[object_name], "service_name": self.config.get("service_name"),
                "service_model": model, "service_model_ref": str(ref)}  # fmt: skip

    def find_by_external_ref(self, object_name: str, external_id_field: str, external_id: str) -> WriteResult | None:
        """The one record carrying the reference (service, model = external_id_field, ref =
        external_id), verified on the reference itself; several is an error, never a guess."""
        if object_name == "users":
            found = self._member_by_email(external_id_field, external_id)
            return WriteResult(str(found[0]["id"]), False, 200, "") if found else None
        wanted = self._reference(object_name, external_id_field, external_id)
        params = {f"external_reference_{k}": v for k, v in wanted.items() if k != "subject_type"}
        body = self.request("GET", self._path(object_name), params={**params, "include": "external_references"}).json()
        references = body.get("external_references") or {}
        matches = [
            record for record in self.unwrap(body)
            if any(_carries(references.get(str(i)), wanted) for i in record.get("external_reference_ids") or [])
        ]  # fmt: skip
        if len(matches) > 1:
            ids = ", ".join(str(r.get("id")) for r in matches[:5])
            raise ConnectorError(f"Several Kantata {object_name} carry the reference {external_id_field}="
                                 f"{external_id} ({ids}); none was updated.", kind="permanent",
                                 vendor_code="AMBIGUOUS_REFERENCE")  # fmt: skip
        return WriteResult(str(matches[0]["id"]), False, 200, "") if matches else None

    def idempotent_upsert(self, object_name: str, external_id_field: str) -> bool:
        """External references are written through Kantata's own create-or-update (one atomic
        write, safe to repeat); every other object's upsert is look up, then create."""
        return object_name == "external_references"

    def create_or_update_reference(self, record: dict[str, Any]) -> WriteResult:
        """POST /external_references/create_or_update with one `external_reference` (the
        endpoint takes one object, no bulk form), e.g. a time entry marked billed in the ERP:
        subject_type/subject_id, service_name (default: the connection's), service_model,
        service_model_ref, status pending|successful|failed, external_status/_message/_link.
        https://developer.kantata.com/kantata/specification/external-references/create-or-update-external-reference"""
        reference = {"service_name": self.config.get("service_name") or SERVICE_NAME, **record}
        path = self._path("external_references", "/create_or_update")
        response = self.request("POST", path, json={"external_reference": reference})
        saved = self.unwrap(response.json())
        return WriteResult(str(saved[0]["id"]) if saved else None, response.status_code == 201, response.status_code,
                           self.excerpt(response))  # fmt: skip

    def upsert(self, object_name: str, external_id_field: str, external_id: str, record: dict[str, Any], *,
               idempotency_key: str | None = None) -> WriteResult:  # fmt: skip
        """Look up by external reference, then update; else create with the reference nested,
        so a retried create after an ambiguous failure finds the first one instead of duplicating.
        Users: by address (the module's docstring)."""
        if object_name == "external_references":
            return self.create_or_update_reference(record)
        if object_name == "users":
            return self._upsert_member(external_id_field, external_id, record)
        found = self.find_by_external_ref(object_name, external_id_field, external_id)
        if found is not None and found.remote_id is not None:
            result = self.update(object_name, found.remote_id, record)
            return WriteResult(found.remote_id, False, result.status_code, result.excerpt)
        reference = self._reference(object_name, external_id_field, external_id)
        reference.pop("subject_type")
        return self.create(object_name, {**record, "external_references_attributes": [reference]})

    # --- users: account invitations, memberships, profiles -------------------------------------
    def _member_by_email(self, field: str, address: str) -> tuple[dict[str, Any], bool] | None:
        """(user, active) for the account member with this address: the active members first
        (the users index, `on_my_account`), then the disabled ones (the memberships index,
        `only_inactive` with `include=user`). The address is checked on each record (an index
        filter Kantata ignored would list other users); several is an error, never a guess."""
        if field != "email_address":
            raise ConnectorError(f"Kantata users are matched by email_address, not {field}.", kind="permanent",
                                 vendor_code="UNSUPPORTED_KEY")  # fmt: skip
        wanted = str(address).strip().lower()
        params = {"by_email_address": wanted, "on_my_account": "true", "per_page": MAX_PER_PAGE}
        active = self.unwrap(self.request("GET", self._path("users"), params=params).json())
        matches = [(u, True) for u in active if _address(u) == wanted]
        if not matches:
            matches = [(u, False) for u in self._disabled_members() if _address(u) == wanted]
        if len(matches) > 1:
            ids = ", ".join(str(u.get("id")) for u, _ in matches[:5])
            raise ConnectorError(f"Several Kantata users have the address {address} ({ids}); none was changed.",
                                 kind="permanent", vendor_code="AMBIGUOUS_REFERENCE")  # fmt: skip
        return matches[0] if matches else None

    def _disabled_members(self) -> list[dict[str, Any]]:
        """The users of the account's inactive memberships, each with its membership id."""
        found, page = [], 1
        while True:
            params = {"only_inactive": "true", "include": "user", "per_page": MAX_PER_PAGE, "page": page}
            body = self.request("GET", "api/v1/account_memberships.json", params=params).json()
            users = body.get("users") or {}
            for membership in self.unwrap(body):
                user = users.get(str(membership.get("user_id")))
                if isinstance(user, dict):
                    found.append({**user, "account_membership_id": str(membership["id"])})
            if page >= int((body.get("meta") or {}).get("page_count") or 1):
                return found
            page += 1

    def _invite(self, record: dict[str, Any]) -> WriteResult:
        """POST /account_invitations: the invitee is the new (pending) user, whose id is returned."""
        if record.get("disabled") is True:
            raise ConnectorError("A disabled user is not invited to Kantata.", kind="permanent", vendor_code="DISABLED")
        body = {k: record[k] for k in INVITATION_FIELDS if record.get(k) is not None}
        response = self.request("POST", "api/v1/account_invitations.json", json={"account_invitation": body})
        invitations = self.unwrap(response.json())
        invitee = invitations[0].get("invitee_id") if invitations else None
        if not invitee:
            raise ConnectorError("Kantata answered the invitation without its invitee.", kind="permanent")
        return WriteResult(str(invitee), True, response.status_code, self.excerpt(response))

    def _update_member(self, user: dict[str, Any], active: bool, record: dict[str, Any]) -> WriteResult:
        """A changed name, headline or address on the profile (`PUT /users/{id}`); `disabled:
        false` on a disabled member enables it first (a rehire); rates and permission on an
        active membership; `disabled: true` disables it. Only what differs is sent."""
        user_id, membership = str(user["id"]), user.get("account_membership_id")
        profile = {k: record[k] for k in PROFILE_FIELDS if record.get(k) is not None and record[k] != user.get(k)}
        address = str(record.get("email_address") or "").strip().lower()
        if address and address != _address(user):  # Kantata may keep the case it was given
            profile["email_address"] = address
        changes = {k: record[k] for k in MEMBERSHIP_FIELDS if record.get(k) is not None}
        disable, enable = record.get("disabled") is True and active, record.get("disabled") is False and not active
        if (changes or disable or enable) and not membership:
            raise ConnectorError(f"Kantata user {user_id} has no membership on this account.", kind="permanent",
                                 vendor_code="NOT_A_MEMBER")  # fmt: skip
        status, excerpt = 200, "nothing to change"
        base = f"api/v1/account_memberships/{quote(str(membership), safe='')}"
        calls: list[tuple[str, dict[str, Any] | None]] = []
        if profile:
            calls.append((f"api/v1/users/{quote(user_id, safe='')}.json", {"user": profile}))
        if enable:
            calls.append((f"{base}/enable.json", None))
        if changes and (active or enable):  # a disabled membership stays as it was left
            calls.append((f"{base}.json", {"account_membership": changes}))
        if disable:
            calls.append((f"{base}/disable.json", None))
        for path, body in calls:
            response = self.request("PUT", path, json=body) if body is not None else self.request("PUT", path)
            status, excerpt = response.status_code, self.excerpt(response)
        return WriteResult(user_id, False, status, excerpt)

    def _upsert_member(self, field: str, address: str, record: dict[str, Any]) -> WriteResult:
        found = self._member_by_email(field, address)
        if found is not None:
            return self._update_member(*found, record)
        if record.get("disabled") is True:  # a leaver Kantata never had: nothing to deactivate
            return WriteResult(None, False, 200, f"no Kantata user has the address {address}: nothing to disable")
        return self._invite({**record, "email_address": address})


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _address(user: dict[str, Any]) -> str:
    return str(user.get("email_address") or "").strip().lower()


def _carries(reference: Any, wanted: dict[str, str]) -> bool:
    """Does this external reference hold every wanted value (subject type, service, model, ref)?"""
    return isinstance(reference, dict) and all(str(reference.get(k)) == str(v) for k, v in wanted.items())


def _second_before(stamp: str) -> str:
    """Kantata times have whole seconds and `updated_after` is strict: step back one second so a
    change committed in the watermark's second after the last poll is read again, not missed."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise ConnectorError(f"Watermark {stamp!r} is not a datetime.", kind="permanent") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - timedelta(seconds=1)).isoformat()


__all__ = ["KantataConnector"]
