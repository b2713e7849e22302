"""Kantata as documented: `approved` is read only and its filter ignores the value given;
external-reference look-ups use the subject index's external_reference_* filters and trust
a record only when one of its references carries the requested values."""

from __future__ import annotations

import httpx
import pytest

from integrations.connectors.kantata import KantataConnector
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.kantata import VENDOR
from integrations.sandboxes.kantata.approvals import approve
from tests.connectors.shapes import refusal

pytestmark = pytest.mark.django_db(transaction=True)


def api(kantata: KantataConnector, method: str, path: str, **kwargs) -> httpx.Response:
    return kantata.request(method, f"api/v1/{path}", raise_for_status=False, **kwargs)


def entry(workspace_id: str = "41290001", **fields) -> dict:
    return {"workspace_id": workspace_id, "date_performed": "2026-03-02", "time_in_minutes": 60, **fields}


def test_the_approved_filter_ignores_its_value(kantata):
    for value in ("true", "false"):
        body = api(kantata, "GET", "time_entries.json", params={"approved": value, "per_page": 200}).json()
        rows = kantata.unwrap(body)
        assert rows and all(r["approved"] for r in rows), value
    error = refusal(kantata.query, "time_entries", filters={"approved": "false"})
    assert error.kind == "permanent" and error.vendor_code == "UNSUPPORTED_FILTER" and "approved" in error.message


def test_approved_is_not_writable_through_time_entries(kantata):
    # The vendor ignores it (strong parameters): the entry stays unapproved.
    created = api(kantata, "POST", "time_entries.json", json={"time_entry": entry(approved=True)})
    entry_id = created.json()["results"][0]["id"]
    assert store.get(VENDOR, "time_entries", entry_id).data["approved"] is False
    # The connector says so instead of letting the value vanish.
    error = refusal(kantata.create, "time_entries", entry(approved=True))
    assert error.kind == "permanent" and error.vendor_code == "READ_ONLY" and error.message.startswith("approved")
    assert refusal(kantata.update, "time_entries", entry_id, {"approved": True}).vendor_code == "READ_ONLY"
    # Approval happens on the timesheet; the filter then finds the entry.
    assert approve([entry_id]) == 1
    found = kantata.query("time_entries", filters={"approved": "true", "workspace_id": "41290001"})
    assert entry_id in [r["id"] for r in found.records]


def test_a_missing_reference_finds_nothing_and_upsert_creates(kantata):
    # The references index ignores service filters it does not document: an unverified
    # look-up there would have taken some other workspace as rows[0] and updated it.
    listed = api(
        kantata,
        "GET",
        "external_references.json",
        params={"subject_type": "Workspace", "service_name": "switchboard", "service_model_ref": "OPP-NONE"},
    )
    assert listed.json()["count"] > 0  # fmt: skip
    before = {r.record_id: r.data["title"] for r in store.records(VENDOR, "workspaces")}
    assert kantata.find_by_external_ref("workspaces", "opportunity", "OPP-NONE") is None
    result = kantata.upsert("workspaces", "opportunity", "OPP-NONE", {"title": "New", "creator_role": "maven"})
    assert result.created and result.remote_id not in before
    assert {r.record_id: r.data["title"] for r in store.records(VENDOR, "workspaces")
            if r.record_id in before} == before  # fmt: skip
    assert kantata.find_by_external_ref("workspaces", "opportunity", "OPP-NONE").remote_id == result.remote_id


def test_a_record_whose_references_only_match_piecemeal_is_not_taken(kantata):
    target = kantata.create("workspaces", {"title": "Split", "creator_role": "maven"}).remote_id
    for model, ref in (("opportunity", "OTHER-1"), ("project", "OPP-SPLIT")):
        api(kantata, "POST", "external_references.json", json={"external_reference": {
            "subject_type": "Workspace", "subject_id": target, "service_name": "switchboard",
            "service_model": model, "service_model_ref": ref}})  # fmt: skip
    body = api(
        kantata,
        "GET",
        "workspaces.json",
        params={"external_reference_service_model": "opportunity", "external_reference_service_model_ref": "OPP-SPLIT"},
    ).json()
    assert [r["id"] for r in kantata.unwrap(body)] == [target]  # each filter matched by a different reference
    assert kantata.find_by_external_ref("workspaces", "opportunity", "OPP-SPLIT") is None
    assert kantata.find_by_external_ref("workspaces", "project", "OPP-SPLIT").remote_id == target


def test_the_references_index_needs_a_subject_type(kantata):
    answer = api(kantata, "GET", "external_references.json")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "subject_type"


def test_connection_test_names_the_token_and_what_the_flows_read(kantata):
    result = kantata.test()
    assert result.ok, result.message
    assert [c.name for c in result.checks] == ["Token", "Workspaces access", "Time entries access",
                                               "External references"]  # fmt: skip
    assert all(c.ok for c in result.checks) and "do not expire" in result.checks[0].detail
