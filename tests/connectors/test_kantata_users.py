"""Kantata users through the connector, against the sandbox over HTTP: upsert by work e-mail
finds the account member (and changes its membership) or invites the address; `disabled`
disables the membership; an answer lost after the invitation is found again by address."""

from __future__ import annotations

import pytest

from integrations.connectors.errors import ConnectorError
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.kantata import VENDOR
from integrations.sandboxes.models import SandboxFault, SandboxRequest

pytestmark = pytest.mark.django_db(transaction=True)
NEW = "new.hire@firm.example"


def member() -> dict:
    return store.records(VENDOR, "users").order_by("record_id").first().data


def membership(user_id: str) -> dict:
    return store.records(VENDOR, "account_memberships").get(data__user_id=user_id).data


def test_an_account_member_is_found_by_address_and_its_profile_and_membership_changed(kantata):
    user = member()
    record = {"full_name": "Someone Else", "headline": user["headline"], "cost_rate_in_cents": 14000}
    result = kantata.upsert("users", "email_address", user["email_address"].upper(), record)
    assert (result.remote_id, result.created) == (user["id"], False)
    assert membership(user["id"])["cost_rate_in_cents"] == 14000
    profile = store.get(VENDOR, "users", user["id"]).data
    assert (profile["full_name"], profile["headline"]) == ("Someone Else", user["headline"])
    assert not store.records(VENDOR, "account_invitations").exists()
    # only what differs is sent: the same name again sends nothing
    before = SandboxRequest.objects.filter(vendor=VENDOR, method="PUT").count()
    kantata.upsert("users", "email_address", user["email_address"], {"full_name": "Someone Else"})
    assert SandboxRequest.objects.filter(vendor=VENDOR, method="PUT").count() == before


def test_a_new_address_is_invited_and_the_invitee_is_the_user(kantata):
    record = {"full_name": "New Hire", "headline": "Consultant", "cost_rate_in_cents": 9000}
    result = kantata.upsert("users", "email_address", NEW, record)
    assert result.created
    user = kantata.read("users", result.remote_id)
    assert (user["full_name"], user["email_address"], user["headline"]) == ("New Hire", NEW, "Consultant")
    (invitation,) = [r.data for r in store.records(VENDOR, "account_invitations")]
    assert (invitation["invitee_id"], invitation["pending"], invitation["cost_rate_in_cents"]) == (
        result.remote_id, True, 9000)  # fmt: skip
    again = kantata.upsert("users", "email_address", NEW, {"full_name": "New Hire"})
    assert (again.remote_id, again.created) == (result.remote_id, False)
    assert store.records(VENDOR, "account_invitations").count() == 1


def test_disabled_disables_the_membership_and_never_invites_a_leaver(kantata):
    user = member()
    result = kantata.upsert("users", "email_address", user["email_address"], {"disabled": True})
    assert result.remote_id == user["id"] and membership(user["id"])["disabled_at"]
    # a disabled member is off the users index's on_my_account, and still found (inactive memberships)
    assert kantata.find_by_external_ref("users", "email_address", user["email_address"]).remote_id == user["id"]
    again = kantata.upsert("users", "email_address", user["email_address"], {"disabled": True, "cost_rate_in_cents": 1})
    assert again.remote_id == user["id"] and membership(user["id"])["cost_rate_in_cents"] != 1
    nobody = kantata.upsert("users", "email_address", "left.long.ago@firm.example", {"disabled": True})
    assert nobody.remote_id is None and "nothing to disable" in nobody.excerpt
    assert not store.records(VENDOR, "account_invitations").exists()


def test_a_rehired_member_is_enabled_again_not_invited(kantata):
    user = member()
    kantata.upsert("users", "email_address", user["email_address"], {"disabled": True})
    result = kantata.upsert("users", "email_address", user["email_address"],
                            {"disabled": False, "cost_rate_in_cents": 11000})  # fmt: skip
    assert (result.remote_id, result.created) == (user["id"], False)
    row = membership(user["id"])
    assert row["disabled_at"] is None and row["cost_rate_in_cents"] == 11000
    assert not store.records(VENDOR, "account_invitations").exists()


def test_users_are_matched_by_address_only_and_a_bad_invitation_is_kantatas_422(kantata):
    with pytest.raises(ConnectorError) as err:
        kantata.upsert("users", "employee_number", "21001", {"full_name": "x"})
    assert err.value.kind == "permanent" and err.value.vendor_code == "UNSUPPORTED_KEY"
    with pytest.raises(ConnectorError) as err:
        kantata.upsert("users", "email_address", NEW, {"full_name": ""})
    assert err.value.kind == "permanent" and err.value.status_code == 422
    assert err.value.message.endswith("full_name: Full name can't be blank")


def test_an_invitation_whose_answer_was_lost_is_found_by_address_not_sent_twice(kantata):
    kantata.find_by_external_ref("users", "email_address", NEW)  # warm up outside the fault
    SandboxFault.objects.create(vendor=VENDOR, kind="drop_after_commit", writes_only=True)
    with pytest.raises(ConnectorError) as err:
        kantata.upsert("users", "email_address", NEW, {"full_name": "New Hire"})
    assert err.value.kind == "transient" and err.value.ambiguous
    found = kantata.find_by_external_ref("users", "email_address", NEW)  # what the ledger does next
    assert found is not None and store.records(VENDOR, "account_invitations").count() == 1
    assert SandboxRequest.objects.filter(vendor=VENDOR, method="POST").count() == 1


def test_a_linked_user_is_updated_by_id_and_its_changed_address_moves_with_it(kantata):
    """A worker the crosswalk links to a Kantata user whose work e-mail changed: `update` by the
    user's id changes its address on the profile (PUT /users/{id}), no look-up by the new
    address, no invitation; the old address no longer finds anyone."""
    user = member()
    record = {"full_name": user["full_name"], "email_address": "Moved.Person@firm.example", "headline": "Principal",
              "cost_rate_in_cents": 12500, "disabled": False}  # fmt: skip
    result = kantata.update("users", user["id"], record)
    assert (result.remote_id, result.created) == (user["id"], False)
    profile = store.get(VENDOR, "users", user["id"]).data
    assert (profile["email_address"], profile["headline"]) == ("moved.person@firm.example", "Principal")
    assert membership(user["id"])["cost_rate_in_cents"] == 12500
    assert kantata.find_by_external_ref("users", "email_address", "moved.person@firm.example").remote_id == user["id"]
    assert kantata.find_by_external_ref("users", "email_address", user["email_address"]) is None
    assert not store.records(VENDOR, "account_invitations").exists()
    # the same profile again: the address is already the user's (compared case-blind), nothing is sent
    before = SandboxRequest.objects.filter(vendor=VENDOR, method="PUT").count()
    kantata.update("users", user["id"], {k: v for k, v in record.items() if k != "cost_rate_in_cents"})
    assert SandboxRequest.objects.filter(vendor=VENDOR, method="PUT").count() == before
    # an address another member has is Kantata's 422 on email_address, and nothing changes
    other = store.records(VENDOR, "users").order_by("record_id")[1].data["email_address"]
    with pytest.raises(ConnectorError) as err:
        kantata.update("users", user["id"], {"email_address": other})
    assert err.value.status_code == 422 and "email_address" in err.value.message
    assert store.get(VENDOR, "users", user["id"]).data["email_address"] == "moved.person@firm.example"
    # a disabled member moves too (found among the inactive memberships by its present address)
    kantata.update("users", user["id"], {"disabled": True})
    kantata.update("users", user["id"], {"email_address": "moved.again@firm.example"})
    assert store.get(VENDOR, "users", user["id"]).data["email_address"] == "moved.again@firm.example"
    assert membership(user["id"])["disabled_at"] is not None
