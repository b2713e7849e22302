"""The Kantata sandbox's account invitations and account memberships, as Kantata documents
them: an invitation adds a (pending) user to the account, a membership is disabled to make the
user inactive, inactive memberships are hidden unless asked for, and bad input is Kantata's
422 naming the field."""

import json
from urllib.parse import urlencode

import pytest

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.kantata import ACCOUNT_ID, VENDOR
from integrations.sandboxes.kantata.seed import seed

pytestmark = pytest.mark.django_db

API = "/sandbox/kantata/api/v1"


@pytest.fixture
def kantata(client):
    seed("test")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {sandbox_credentials(VENDOR)['access_token']}"}

    def call(method: str, path: str, body: dict | None = None, **params):
        send = getattr(client, method.lower())
        if method == "GET":
            return send(f"{API}/{path}", params, **auth)
        query = f"?{urlencode(params)}" if params else ""
        return send(f"{API}/{path}{query}", json.dumps(body or {}), content_type="application/json", **auth)

    return call


def invite(kantata, **fields):
    body = {"email_address": "Ada.Byron@example.com", "full_name": "Ada Byron", "headline": "Senior Consultant",
            "cost_rate_in_cents": 9500, **fields}  # fmt: skip
    return kantata("POST", "account_invitations.json", {"account_invitation": body}, include="invitee")


def test_an_invitation_adds_a_pending_user_to_the_account_with_a_membership(kantata):
    answer = invite(kantata)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    (result,) = body["results"]
    assert result["key"] == "account_invitations"
    invitation = body["account_invitations"][result["id"]]
    assert invitation["email_address"] == "Ada.Byron@example.com" and invitation["full_name"] == "Ada Byron"
    assert invitation["pending"] is True and invitation["permission"] == "collaborator"
    assert invitation["cost_rate_in_cents"] == 9500 and invitation["expiration_date"]
    user = body["users"][invitation["invitee_id"]]  # include=invitee side-loads the new user
    assert (user["full_name"], user["email_address"], user["headline"]) == (
        "Ada Byron", "Ada.Byron@example.com", "Senior Consultant")  # fmt: skip
    assert user["account_id"] == ACCOUNT_ID
    # the user is found by address on the users index, and has an active account membership
    found = kantata("GET", "users.json", by_email_address="ada.byron@example.com").json()
    assert [r["id"] for r in found["results"]] == [invitation["invitee_id"]]
    membership = kantata("GET", "account_memberships.json", by_user_id=invitation["invitee_id"]).json()
    (row,) = membership["account_memberships"].values()
    assert row["id"] == user["account_membership_id"] and row["disabled_at"] is None
    assert row["cost_rate_in_cents"] == 9500
    # a pending invitation is listed; the invitation is read back by id
    assert result["id"] in kantata("GET", "account_invitations.json").json()["account_invitations"]
    assert kantata("GET", f"account_invitations/{result['id']}.json").status_code == 200


def test_invitation_validation_errors_name_the_field_and_write_nothing(kantata):
    cases = [
        ({"full_name": ""}, "full_name", "Full name can't be blank"),
        ({"email_address": ""}, "email_address", "Email address can't be blank"),
        ({"email_address": "not an address"}, "email_address", "Email address is invalid"),
        ({"permission": "owner"}, "permission", "Permission is not included in the list"),
        ({"cost_rate_in_cents": -1}, "cost_rate_in_cents", "Cost rate in cents must be greater than or equal to 0"),
    ]
    before = store.records(VENDOR, "users").count()
    for fields, field, message in cases:
        answer = invite(kantata, **fields)
        assert answer.status_code == 422, (fields, answer.content)
        assert answer.json() == {"errors": [{"type": "validation", "field": field, "message": message}]}
    assert store.records(VENDOR, "users").count() == before
    assert not store.records(VENDOR, "account_invitations").exists()


def test_an_address_already_on_the_account_is_refused_not_invited_twice(kantata):
    member = store.records(VENDOR, "users").order_by("record_id").first().data
    answer = invite(kantata, email_address=member["email_address"].upper())
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "email_address"
    assert invite(kantata).status_code == 200
    again = invite(kantata)  # the same new address a second time: the pending invitation holds it
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "email_address"
    assert store.records(VENDOR, "account_invitations").count() == 1


def test_bulk_invitations_are_all_valid_or_none_is_written(kantata):
    good = {"email_address": "one@example.com", "full_name": "One Person"}
    bad = {"email_address": "two@example.com", "full_name": ""}
    answer = kantata("POST", "account_invitations.json", {"account_invitations": [good, bad]})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "full_name"
    assert not store.records(VENDOR, "account_invitations").exists()
    answer = kantata("POST", "account_invitations.json", {"account_invitations": [good, {**bad, "full_name": "Two"}]})
    assert answer.status_code == 200 and len(answer.json()["results"]) == 2
    too_many = [{"email_address": f"p{i}@example.com", "full_name": f"P {i}"} for i in range(51)]
    assert kantata("POST", "account_invitations.json", {"account_invitations": too_many}).status_code == 400


def test_disabling_a_membership_makes_the_user_inactive_and_hides_it_by_default(kantata):
    user = store.records(VENDOR, "users").order_by("record_id").first().data
    membership_id = user["account_membership_id"]
    answer = kantata("PUT", f"account_memberships/{membership_id}/disable.json")
    assert answer.status_code == 200
    disabled = answer.json()["account_memberships"][membership_id]
    assert disabled["disabled_at"] and disabled["user_id"] == user["id"]
    # default filters: an inactive membership is not listed and its show route is a 404
    assert kantata("GET", "account_memberships.json", by_user_id=user["id"]).json()["results"] == []
    missing = kantata("GET", f"account_memberships/{membership_id}.json")
    assert missing.status_code == 404 and missing.json()["errors"][0]["type"] == "not_found"
    inactive = kantata("GET", "account_memberships.json", only_inactive="true").json()
    assert [r["id"] for r in inactive["results"]] == [membership_id]
    assert kantata("GET", f"account_memberships/{membership_id}.json", is_active="false").status_code == 200
    # disabling again changes nothing
    again = kantata("PUT", f"account_memberships/{membership_id}/disable.json").json()
    assert again["account_memberships"][membership_id]["disabled_at"] == disabled["disabled_at"]
    assert kantata("PUT", "account_memberships/1/disable.json").status_code == 404


def test_a_membership_update_checks_rates_and_permission(kantata):
    membership_id = store.records(VENDOR, "users").order_by("record_id").first().data["account_membership_id"]
    answer = kantata("PUT", f"account_memberships/{membership_id}.json",
                     {"account_membership": {"cost_rate_in_cents": 12000, "permission": "project_lead"}})  # fmt: skip
    assert answer.status_code == 200
    row = answer.json()["account_memberships"][membership_id]
    assert (row["cost_rate_in_cents"], row["permission"]) == (12000, "project_lead")
    bad = kantata("PUT", f"account_memberships/{membership_id}.json",
                  {"account_membership": {"cost_rate_in_cents": "lots"}})  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["errors"] == [{"type": "validation", "field": "cost_rate_in_cents",
                                     "message": "Cost rate in cents is not a number"}]  # fmt: skip


def test_a_disabled_member_leaves_on_my_account_and_enable_brings_it_back(kantata):
    user = store.records(VENDOR, "users").order_by("record_id").first().data
    membership_id = user["account_membership_id"]

    def on_account():
        found = kantata("GET", "users.json", by_email_address=user["email_address"], on_my_account="true").json()
        return [r["id"] for r in found["results"]]

    assert on_account() == [user["id"]]
    kantata("PUT", f"account_memberships/{membership_id}/disable.json")
    assert on_account() == []
    # the inactive memberships, with their users side-loaded, still name the user
    inactive = kantata("GET", "account_memberships.json", only_inactive="true", include="user").json()
    assert inactive["users"][user["id"]]["email_address"] == user["email_address"]
    answer = kantata("PUT", f"account_memberships/{membership_id}/enable.json")
    assert answer.status_code == 200 and answer.json()["account_memberships"][membership_id]["disabled_at"] is None
    assert on_account() == [user["id"]]
    bad = kantata("GET", "account_memberships.json", include="workspace")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "include"


def test_a_profile_update_changes_name_and_headline_and_checks_them(kantata):
    user = store.records(VENDOR, "users").order_by("record_id").first().data
    answer = kantata("PUT", f"users/{user['id']}.json", {"user": {"full_name": "Ada King", "headline": "Principal"}})
    assert answer.status_code == 200
    changed = answer.json()["users"][user["id"]]
    assert (changed["full_name"], changed["headline"], changed["email_address"]) == (
        "Ada King", "Principal", user["email_address"])  # fmt: skip
    assert kantata("GET", f"users/{user['id']}.json").json()["users"][user["id"]]["full_name"] == "Ada King"
    blank = kantata("PUT", f"users/{user['id']}.json", {"user": {"full_name": " "}})
    assert blank.status_code == 422
    assert blank.json() == {"errors": [{"type": "validation", "field": "full_name",
                                        "message": "Full name can't be blank"}]}  # fmt: skip
    other = store.records(VENDOR, "users").order_by("record_id")[1].data["email_address"]
    taken = kantata("PUT", f"users/{user['id']}.json", {"user": {"email_address": other}})
    assert taken.status_code == 422 and taken.json()["errors"][0]["field"] == "email_address"
    assert kantata("PUT", "users/1.json", {"user": {"full_name": "x"}}).status_code == 404
    assert kantata("POST", "users.json", {"user": {"full_name": "x"}}).status_code == 405


def test_a_changed_email_address_moves_the_member_to_it(kantata):
    """PUT /users/{id} with `email_address` ("name, headline, or email address"): the user is
    found by its new address, the old one is free for an invitation, the new one is not."""
    user = store.records(VENDOR, "users").order_by("record_id").first().data
    answer = kantata("PUT", f"users/{user['id']}.json", {"user": {"email_address": "Moved.Person@example.com"}})
    assert answer.status_code == 200
    assert answer.json()["users"][user["id"]]["email_address"] == "Moved.Person@example.com"
    found = kantata("GET", "users.json", by_email_address="moved.person@example.com", on_my_account="true").json()
    assert [r["id"] for r in found["results"]] == [user["id"]]
    assert invite(kantata, email_address="moved.person@example.com").status_code == 422
    assert invite(kantata, email_address=user["email_address"]).status_code == 200
    bad = kantata("PUT", f"users/{user['id']}.json", {"user": {"email_address": "not an address"}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email_address"
