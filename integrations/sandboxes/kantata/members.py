"""Account members in the Kantata sandbox: account invitations (how an integration adds a
user to the account), account memberships (how it makes one inactive or active again) and
the users' index and profile update.

What Kantata documents, and the sandbox serves:

- `POST /account_invitations` "Adds a user to your account": `account_invitation` with
  `email_address` and `full_name` required, optional `headline`, `permission`,
  `bill_rate_in_cents`, `cost_rate_in_cents`, `billability_target`, `default_role_id`; bulk
  with the plural key, up to 50. Answers the normalised envelope under `account_invitations`
  (`email_address`, `full_name`, `headline`, `invitee_id` — "the new user who will receive
  the invitation" —, `inviter_id`, `pending`, `expiration_date`, `permission`, the rates);
  `include=invitee` side-loads the user
  (https://developer.kantata.com/kantata/specification/account-invitations/create-account-invitation,
  https://developer.kantata.com/tag/Account-Invitations). `GET /account_invitations` lists
  pending invitations unless `only_pending=false`.
- `GET /account_memberships`: "Unless you provide the is_active:false filter, you won't
  receive account membership for inactive users, and will get a 404 status on the show
  route"; filters `by_user_id`, `only_active`, `only_inactive` ("disabled_at is null / not
  null") (https://developer.kantata.com/tag/Account-Memberships).
- `PUT /account_memberships/{id}` (permission, rates)
  (https://developer.kantata.com/kantata/specification/account-memberships/update-account-membership),
  `PUT /account_memberships/{id}/disable`, "Make a user inactive: Disables a user in an
  account" (https://developer.kantata.com/kantata/specification/account-memberships/deactivate-account-membership),
  and "Make a user active" (`/enable`; the path follows /disable's).
- Users: the index's `on_my_account` lists the active account members; `PUT /users/{id}`
  changes "name, headline, or email address"
  (https://developer.kantata.com/kantata/specification/users/update-user,
  https://knowledge.kantata.com/hc/en-us/articles/32608719669403-API-Quick-Reference-Managing-Users).

The sandbox's own choices where Kantata says nothing (docs/VENDORS_CRM_PSA.md lists them as
unverified): the invitee user and its account membership exist from the invitation on
(pending); an address that already has a membership on the account, or a pending invitation,
is refused with a 422 on `email_address`; disabling a disabled membership (or enabling an
active one) answers it unchanged; the `/enable` path.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.framework import sandbox_endpoint
from integrations.sandboxes.kantata import ACCOUNT_ID, VENDOR, records
from integrations.sandboxes.kantata.auth import HOOKS
from integrations.sandboxes.kantata.resources import RESOURCES, Invalid
from integrations.sandboxes.kantata.views import handled, json_body
from integrations.sandboxes.models import SandboxRecord

INVITATIONS, MEMBERSHIPS = "account_invitations", "account_memberships"
BULK_MAX = 50  # "This endpoint supports bulk creating up to 50 objects."
# "Valid values include administrator, reports_viewer_with_cost, reports_viewer, project_lead,
# project_creator, collaborator, and punch_clock."
PERMISSIONS = ("administrator", "reports_viewer_with_cost", "reports_viewer", "project_lead", "project_creator",
               "collaborator", "punch_clock")  # fmt: skip
RATES = ("bill_rate_in_cents", "cost_rate_in_cents", "billability_target")
PROFILE = ("email_address", "full_name", "headline")  # what PUT /users/{id} changes
INVITER_ID = "20300"  # the sandbox firm's first user stands for the token's administrator
INVITATION_DAYS = 30
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def membership_row(membership_id: str, user_id: str, email: str, stamp: str, **fields) -> tuple[str, dict, str]:
    """An account membership as Kantata answers it; external_id (the sandbox's own index) is
    the address, so one address has one membership on the account."""
    data = {"id": membership_id, "user_id": user_id, "account_id": ACCOUNT_ID, "permission": "collaborator",
            "bill_rate_in_cents": None, "cost_rate_in_cents": None, "billability_target": None,
            "default_role_id": None, "manager_id": None, "is_administrator": False, "is_owner": False,
            "disabled_at": None, "created_at": stamp, "updated_at": stamp, **fields}  # fmt: skip
    return membership_id, data, email.lower()


# --- validation ----------------------------------------------------------------------------------
def _rate(name: str, value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not str(value).lstrip("-").isdigit():
        raise Invalid(name, f"{name.replace('_', ' ').capitalize()} is not a number")
    if int(str(value)) < 0:
        raise Invalid(name, f"{name.replace('_', ' ').capitalize()} must be greater than or equal to 0")
    return int(str(value))


def _permission(value: object) -> str:
    if value not in PERMISSIONS:
        raise Invalid("permission", "Permission is not included in the list")
    return str(value)


def _clean_invitation(attributes: object) -> dict:
    if not isinstance(attributes, dict):
        raise Invalid(None, "Request body must contain a 'account_invitation' object", 400, "system")
    email = str(attributes.get("email_address") or "").strip()
    name = str(attributes.get("full_name") or "").strip()
    if not email:
        raise Invalid("email_address", "Email address can't be blank")
    if not EMAIL.match(email):
        raise Invalid("email_address", "Email address is invalid")
    if not name:
        raise Invalid("full_name", "Full name can't be blank")
    role = attributes.get("default_role_id")
    values: dict[str, object] = {"email_address": email, "full_name": name,
                                 "headline": str(attributes.get("headline") or ""),
                                 "permission": _permission(attributes.get("permission") or "collaborator"),
                                 "default_role_id": str(role) if role else None}  # fmt: skip
    values.update({name: _rate(name, attributes.get(name)) for name in RATES})
    if store.get_by_external_id(VENDOR, MEMBERSHIPS, email.lower()) is not None:
        raise Invalid("email_address", "Email address is already a member of this account or has a pending invitation")
    return values


# --- account invitations -------------------------------------------------------------------------
def _invite(values: dict) -> SandboxRecord:
    stamp = records.now_iso()
    user_id, membership_id, invitation_id = (records.next_id(key) for key in ("users", MEMBERSHIPS, INVITATIONS))
    rates = {name: values[name] for name in RATES}
    try:
        with transaction.atomic():
            row = membership_row(
                membership_id,
                user_id,
                values["email_address"],
                stamp,
                **rates,
                permission=values["permission"],
                default_role_id=values["default_role_id"],
            )
            store.create(VENDOR, MEMBERSHIPS, *row)
    except IntegrityError:  # a concurrent invitation for the same address won
        raise Invalid("email_address", "Email address is already a member of this account or has a pending "
                      "invitation") from None  # fmt: skip
    store.create(VENDOR, "users", user_id, {
        "id": user_id, "full_name": values["full_name"], "email_address": values["email_address"],
        "headline": values["headline"], "account_id": ACCOUNT_ID, "account_membership_id": membership_id,
        "created_at": stamp, "updated_at": stamp})  # fmt: skip
    expires = (datetime.now(UTC) + timedelta(days=INVITATION_DAYS)).date().isoformat()
    data = {"id": invitation_id, **values, "invitee_id": user_id, "inviter_id": INVITER_ID, "pending": True,
            "expiration_date": expires, "created_at": stamp, "updated_at": stamp}  # fmt: skip
    return store.create(VENDOR, INVITATIONS, invitation_id, data, external_id=values["email_address"].lower())


def _invitees(rows: list[SandboxRecord], include: str) -> dict:
    names = {n.strip() for n in include.split(",") if n.strip()}
    unknown = names - {"invitee", "inviter"}
    if unknown:
        raise Invalid("include", f"{sorted(unknown)[0]} is not an includable association", 400, "system")
    ids = {r.data.get("invitee_id") for r in rows} if "invitee" in names else set()
    ids |= {r.data.get("inviter_id") for r in rows} if "inviter" in names else set()
    if not ids - {None}:
        return {}
    return {"users": {u.record_id: u.data for u in store.records(VENDOR, "users").filter(record_id__in=ids)}}


@sandbox_endpoint(HOOKS)
@handled
def invitations(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        qs = store.records(VENDOR, INVITATIONS)
        if request.GET.get("only_pending", "true").lower() not in ("false", "0"):
            qs = qs.filter(data__pending=True)
        if request.GET.get("only"):
            qs = qs.filter(record_id__in=[i.strip() for i in request.GET["only"].split(",") if i.strip()])
        rows, meta = records.paged(qs.order_by("-id"), request.GET)  # default order created_at:desc
        return JsonResponse(records.envelope(INVITATIONS, rows, meta, _invitees(rows, request.GET.get("include", ""))))
    if request.method != "POST":
        raise Invalid(None, f"{request.method} is not supported for account_invitations", 405, "system")
    body = json_body(request)
    if INVITATIONS in body:
        items = body[INVITATIONS]
        if not isinstance(items, list) or not 0 < len(items) <= BULK_MAX:
            raise Invalid(None, f"account_invitations must be a list of 1 to {BULK_MAX} objects", 400, "system")
    elif "account_invitation" in body:
        items = [body["account_invitation"]]
    else:
        raise Invalid(None, "Request body must contain a 'account_invitation' object", 400, "system")
    planned = [_clean_invitation(item) for item in items]  # every item valid before any is written
    addresses = [p["email_address"].lower() for p in planned]
    if len(addresses) != len(set(addresses)):
        raise Invalid("email_address", "Email address is already a member of this account or has a pending invitation")
    created = [_invite(values) for values in planned]
    request.sandbox_external_id = ",".join(addresses)[:255]  # type: ignore[attr-defined]  # for the request log
    included = _invitees(created, request.GET.get("include", ""))
    return JsonResponse(records.envelope(INVITATIONS, created, None, included))


@sandbox_endpoint(HOOKS)
@handled
def invitation(request: HttpRequest, record_id: str) -> HttpResponse:
    row = store.get(VENDOR, INVITATIONS, record_id)
    if row is None:
        raise Invalid(None, "The requested account invitation could not be found", 404, "not_found")
    if request.method != "GET":
        raise Invalid(None, f"{request.method} is not supported", 405, "system")
    return JsonResponse(records.envelope(INVITATIONS, [row], None, _invitees([row], request.GET.get("include", ""))))


# --- account memberships -------------------------------------------------------------------------
def _flag(params, name: str) -> bool | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if value.lower() not in ("true", "false", "1", "0"):
        raise Invalid(name, f"{name} must be true or false", 400, "system")
    return value.lower() in ("true", "1")


def _visible(params):
    """Kantata's default filters: only active memberships unless asked otherwise."""
    qs = store.records(VENDOR, MEMBERSHIPS)
    active, only_active = _flag(params, "is_active"), _flag(params, "only_active")
    if _flag(params, "only_inactive"):
        return qs.exclude(data__disabled_at=None)  # JSON null: a key holding null, not a missing key
    if active is False and not only_active:
        return qs
    return qs.filter(data__disabled_at=None)


def _membership(params, record_id: str) -> SandboxRecord:
    row = _visible(params).filter(record_id=str(record_id)).first()
    if row is None:
        raise Invalid(None, "The requested account membership could not be found", 404, "not_found")
    return row


@sandbox_endpoint(HOOKS)
@handled
def memberships(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        raise Invalid(None, f"{request.method} is not supported for account_memberships", 405, "system")
    qs = _visible(request.GET)
    if request.GET.get("by_user_id"):
        qs = qs.filter(data__user_id=str(request.GET["by_user_id"]))
    if request.GET.get("only"):
        qs = qs.filter(record_id__in=[i.strip() for i in request.GET["only"].split(",") if i.strip()])
    rows, meta = records.paged(qs.order_by("-id"), request.GET)  # default order created_at:desc
    return JsonResponse(records.envelope(MEMBERSHIPS, rows, meta, _users_of(rows, request.GET.get("include", ""))))


def _users_of(rows: list[SandboxRecord], include: str) -> dict:
    """`include=user`: each membership's user under `users`."""
    names = {n.strip() for n in include.split(",") if n.strip()}
    if names - {"user"}:
        raise Invalid("include", f"{sorted(names - {'user'})[0]} is not an includable association", 400, "system")
    if not names:
        return {}
    ids = [str(r.data.get("user_id")) for r in rows]
    return {"users": {u.record_id: u.data for u in store.records(VENDOR, "users").filter(record_id__in=ids)}}


@sandbox_endpoint(HOOKS)
@handled
def membership(request: HttpRequest, record_id: str) -> HttpResponse:
    if request.method == "GET":
        return JsonResponse(records.envelope(MEMBERSHIPS, [_membership(request.GET, record_id)]))
    if request.method != "PUT":
        raise Invalid(None, f"{request.method} is not supported", 405, "system")
    row = _membership(request.GET, record_id)
    attributes = json_body(request).get("account_membership")
    if not isinstance(attributes, dict):
        raise Invalid(None, "Request body must contain a 'account_membership' object", 400, "system")
    changes: dict = {name: _rate(name, attributes[name]) for name in RATES if name in attributes}
    if "permission" in attributes:
        changes["permission"] = _permission(attributes["permission"])
    row = store.update(row, {**changes, "updated_at": records.now_iso()})
    return JsonResponse(records.envelope(MEMBERSHIPS, [row]))


@sandbox_endpoint(HOOKS)
@handled
def disable(request: HttpRequest, record_id: str) -> HttpResponse:
    """PUT …/account_memberships/{id}/disable: the user can no longer sign in to the account."""
    if request.method != "PUT":
        raise Invalid(None, f"{request.method} is not supported", 405, "system")
    row = store.get(VENDOR, MEMBERSHIPS, record_id)
    if row is None:
        raise Invalid(None, "The requested account membership could not be found", 404, "not_found")
    if row.data.get("disabled_at") is None:
        stamp = records.now_iso()
        row = store.update(row, {"disabled_at": stamp, "updated_at": stamp})
    return JsonResponse(records.envelope(MEMBERSHIPS, [row]))


@sandbox_endpoint(HOOKS)
@handled
def enable(request: HttpRequest, record_id: str) -> HttpResponse:
    """PUT …/account_memberships/{id}/enable, "Make a user active: Enables a user in an account"
    (https://developer.kantata.com/kantata/specification/account-memberships/activate-account-membership;
    the path follows /disable's)."""
    if request.method != "PUT":
        raise Invalid(None, f"{request.method} is not supported", 405, "system")
    row = store.get(VENDOR, MEMBERSHIPS, record_id)
    if row is None:
        raise Invalid(None, "The requested account membership could not be found", 404, "not_found")
    if row.data.get("disabled_at") is not None:
        row = store.update(row, {"disabled_at": None, "updated_at": records.now_iso()})
    return JsonResponse(records.envelope(MEMBERSHIPS, [row]))


# --- users: the index's on_my_account, and the profile update ------------------------------------
def active_member_ids() -> list[str]:
    return [str(i) for i in _visible({}).values_list("data__user_id", flat=True)]


@sandbox_endpoint(HOOKS)
@handled
def users(request: HttpRequest) -> HttpResponse:
    """GET /users as the generic index serves it, plus `on_my_account`: "all active account
    members (regardless of workspace participation)" (http://developer.mavenlink.com/users/);
    a disabled member is no longer listed there. POST: Kantata creates users by invitation."""
    if request.method != "GET":
        raise Invalid(None, f"{request.method} is not supported for users", 405, "system")
    qs = records.filtered(RESOURCES["users"], request.GET)
    if _flag(request.GET, "on_my_account"):
        qs = qs.filter(record_id__in=active_member_ids())
    rows, meta = records.paged(qs, request.GET)
    included = records.side_load(rows, request.GET.get("include", ""), "User")
    return JsonResponse(records.envelope("users", rows, meta, included))


def _clean_profile(attributes: object, row: SandboxRecord) -> dict:
    if not isinstance(attributes, dict):
        raise Invalid(None, "Request body must contain a 'user' object", 400, "system")
    changes = {name: str(attributes[name] or "").strip() for name in PROFILE if name in attributes}
    if "full_name" in changes and not changes["full_name"]:
        raise Invalid("full_name", "Full name can't be blank")
    address = changes.get("email_address")
    if address is not None and address.lower() != str(row.data.get("email_address") or "").lower():
        if not EMAIL.match(address):
            raise Invalid("email_address", "Email address is invalid")
        if store.get_by_external_id(VENDOR, MEMBERSHIPS, address.lower()) is not None:
            raise Invalid("email_address", "Email address has already been taken")
    return changes


@sandbox_endpoint(HOOKS)
@handled
def user(request: HttpRequest, record_id: str) -> HttpResponse:
    """GET /users/{id}; PUT /users/{id} changes the profile — "user's name, headline, or email
    address" (https://developer.kantata.com/kantata/specification/users/update-user,
    https://knowledge.kantata.com/hc/en-us/articles/32608719669403-API-Quick-Reference-Managing-Users)."""
    row = store.get(VENDOR, "users", record_id)
    if row is None:
        raise Invalid(None, "The requested user could not be found", 404, "not_found")
    if request.method == "GET":
        included = records.side_load([row], request.GET.get("include", ""), "User")
        return JsonResponse(records.envelope("users", [row], None, included))
    if request.method != "PUT":
        raise Invalid(None, f"{request.method} is not supported", 405, "system")
    changes = _clean_profile(json_body(request).get("user"), row)
    if "email_address" in changes and row.data.get("account_membership_id"):
        membership_row_ = store.get(VENDOR, MEMBERSHIPS, row.data["account_membership_id"])
        if membership_row_ is not None:  # the sandbox's own index of addresses on the account
            membership_row_.external_id = changes["email_address"].lower()
            membership_row_.save(update_fields=["external_id"])
    row = store.update(row, {**changes, "updated_at": records.now_iso()})
    return JsonResponse(records.envelope("users", [row]))
