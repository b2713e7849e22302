"""Dynamics 365 / Dataverse: the connector against its sandbox over real HTTP."""

from __future__ import annotations

import pytest

from integrations.connectors.dynamics import DynamicsConnector
from integrations.connectors.errors import ConnectorError
from integrations.sandboxes import bearer
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.dynamics import VENDOR, keys
from integrations.sandboxes.dynamics.auth import TENANT
from integrations.sandboxes.dynamics.seed import accounts, seed
from integrations.sandboxes.models import SandboxFault, SandboxRecord, SandboxRequest
from integrations.sandboxes.seed.firm import generate_firm
from tests.connectors.contract import make_connection
from tests.connectors.shapes import assert_transient, assert_upserted_once, limit_sandbox, refusal

pytestmark = pytest.mark.django_db(transaction=True)


def connector_for(origin: str, **overrides) -> DynamicsConnector:
    creds = sandbox_credentials(VENDOR)
    base = f"{origin}/sandbox/{VENDOR}"
    config = {
        "tenant_id": TENANT,
        "client_id": creds["client_id"],
        "token_url": f"{base}/{TENANT}/oauth2/v2.0/token",
        **overrides.pop("config", {}),
    }
    secret = overrides.pop("client_secret", creds["client_secret"])
    return DynamicsConnector(make_connection("dynamics", base, config, {"client_secret": secret}))


@pytest.fixture
def dataverse(sandbox_origin):
    seed("test")
    return connector_for(sandbox_origin)


def token_requests(attempts) -> int:
    return sum(1 for a in attempts if a.url.endswith("/oauth2/v2.0/token"))


def test_bad_client_secret_is_permanent_with_entra_message(sandbox_origin):
    conn = connector_for(sandbox_origin, client_secret="wrong-secret")
    with pytest.raises(ConnectorError) as err:
        conn.read("accounts", "00000000-0000-0000-0000-000000000000")
    assert err.value.kind == "permanent" and err.value.status_code == 401
    assert "AADSTS7000215: Invalid client secret provided" in err.value.message
    assert "wrong-secret" not in err.value.message


def test_revoked_token_is_refreshed_once(dataverse, sandbox_origin, caplog):
    caplog.set_level("INFO", logger="integrations.connectors.http")
    attempts = []
    conn = DynamicsConnector(dataverse.connection, on_attempt=attempts.append)
    first = store.records(VENDOR, "accounts").order_by("id").first()
    assert conn.read("accounts", first.record_id)["name"] == first.data["name"]
    bearer.revoke_all(VENDOR)
    assert conn.read("accounts", first.record_id)["accountid"] == first.record_id
    statuses = [a.status_code for a in attempts]
    assert statuses == [200, 200, 401, 200, 200]  # token, read, expired read, new token, read
    assert token_requests(attempts) == 2
    assert not any(conn.credentials["client_secret"] in (a.request_excerpt + a.url) for a in attempts)
    tokens = [t for t in conn.http.secrets if t.count(".") == 1 and len(t) > 40]  # the two access tokens
    assert len(tokens) == 2 and caplog.text.count("/accounts(") >= 3  # the log lines exist...
    for secret in [conn.credentials["client_secret"], *tokens]:
        assert secret not in caplog.text
        assert not any(secret in str(a.as_dict()) for a in attempts)


def test_read_by_id_and_missing_record(dataverse):
    row = store.get_by_external_id(VENDOR, "accounts", "C-10001")
    record = dataverse.read("accounts", row.record_id)
    assert record["accountnumber"] == "C-10001" and record["@odata.etag"].startswith('W/"')
    with pytest.raises(ConnectorError) as err:
        dataverse.read("accounts", "6f1c2a3e-9b1d-ef11-8409-000d3a5b2c10")
    assert err.value.kind == "permanent" and err.value.vendor_code == "0x80040217"
    assert "Does Not Exist" in err.value.message


def test_paginated_query_follows_next_links_over_1000_records(sandbox_origin):
    firm = generate_firm(7, "test")
    rows = list(accounts(firm))
    template = rows[0][1]
    store.bulk_load(
        VENDOR,
        "accounts",
        (
            (
                f"00000000-0000-4000-8000-{n:012d}",
                {
                    **template,
                    "accountid": f"00000000-0000-4000-8000-{n:012d}",
                    "accountnumber": f"B-{n:05d}",
                    "modifiedon": f"2025-02-{1 + n % 28:02d}T10:00:00Z",
                },
                f"B-{n:05d}",
            )
            for n in range(1250)
        ),
    )
    attempts = []
    conn = DynamicsConnector(connector_for(sandbox_origin).connection, on_attempt=attempts.append)
    records = list(conn.iterate("accounts", page_size=400))
    assert len(records) == 1250 and len({r["accountid"] for r in records}) == 1250
    pages = [a for a in attempts if "/accounts" in a.url]
    assert len(pages) == 4 and "%24skiptoken=" in pages[-1].url
    since = conn.query("accounts", since="2025-02-20T00:00:00Z", page_size=2000)
    assert since.records and all(r["modifiedon"] >= "2025-02-20" for r in since.records)
    assert since.watermark == max(r["modifiedon"] for r in since.records) and since.next_cursor is None


def test_create_returns_entity_id(dataverse):
    result = dataverse.create("accounts", {"name": "Globex Advisory", "address1_country": "US"})
    assert result.created and result.status_code == 204
    row = store.get(VENDOR, "accounts", result.remote_id)
    assert row.data["name"] == "Globex Advisory"


def test_upsert_by_alternate_key_twice_gives_one_record(dataverse):
    first = dataverse.upsert("accounts", "accountnumber", "C-77001", {"name": "Initech"})
    second = dataverse.upsert("accounts", "accountnumber", "C-77001", {"name": "Initech Consulting"})
    rows = store.records(VENDOR, "accounts").filter(external_id="C-77001")
    assert assert_upserted_once(first, second, rows).data["name"] == "Initech Consulting"
    assert SandboxRequest.objects.filter(vendor=VENDOR, method="PATCH", external_id="C-77001").count() == 2


def test_update_is_update_only(dataverse):
    with pytest.raises(ConnectorError) as err:
        dataverse.update("accounts", "6f1c2a3e-9b1d-ef11-8409-000d3a5b2c10", {"name": "Ghost"})
    assert err.value.status_code == 404 and err.value.kind == "permanent"
    assert not store.records(VENDOR, "accounts").filter(data__name="Ghost").exists()


@pytest.mark.parametrize("fault", ["throttle", "rate_limit"])
def test_service_protection_429_is_transient_with_retry_after(dataverse, fault):
    if fault == "throttle":
        SandboxFault.objects.create(vendor=VENDOR, kind="throttle", retry_after=37)
    else:
        limit_sandbox(VENDOR, 1, 3600)
        dataverse.query("accounts", page_size=1)  # uses the window's single request
    error = refusal(dataverse.query, "accounts", page_size=1)
    assert_transient(error, status=429, vendor_code="0x80072322")
    assert "Number of requests exceeded" in error.message
    if fault == "throttle":
        assert error.retry_after == 37
    else:
        assert 0 < error.retry_after <= 3600


@pytest.mark.parametrize(
    ("record", "code", "text"),
    [
        ({"name": "x" * 161}, "0x80044331", "exceeded the maximum allowed length of '160'"),
        ({"name": "Acme", "shoe_size": 42}, "0x80060888", "The property 'shoe_size' does not exist on type"),
        ({"name": "Acme", "revenue": "lots"}, "0x80048d19", "Cannot convert the literal 'lots'"),
    ],
)
def test_validation_errors_are_permanent_with_dataverse_message(dataverse, record, code, text):
    before = SandboxRecord.objects.filter(vendor=VENDOR, object_type="accounts").count()
    with pytest.raises(ConnectorError) as err:
        dataverse.create("accounts", record)
    assert err.value.kind == "permanent" and err.value.status_code == 400
    assert err.value.vendor_code == code and text in err.value.message
    assert SandboxRecord.objects.filter(vendor=VENDOR, object_type="accounts").count() == before


def test_if_none_match_refuses_to_overwrite(dataverse):
    path = f"{dataverse.api}/accounts(accountnumber='C-10001')"
    with pytest.raises(ConnectorError) as err:
        dataverse.request("PATCH", path, json={"name": "Overwrite"}, headers={"If-None-Match": "*"})
    assert err.value.status_code == 412 and err.value.vendor_code == "0x80040237"


def test_filter_select_and_test_connection(dataverse):
    response = dataverse.request(
        "GET",
        f"{dataverse.api}/accounts",
        params={"$select": "name,accountnumber", "$filter": "accountnumber eq 'C-10002'"},
    )
    value = response.json()["value"]
    assert len(value) == 1 and set(value[0]) == {"@odata.etag", "accountid", "name", "accountnumber"}
    counted = dataverse.request("GET", f"{dataverse.api}/accounts", params={"$count": "true", "$top": "3"}).json()
    assert counted["@odata.count"] == 3 and len(counted["value"]) == 3
    with pytest.raises(ConnectorError) as err:
        dataverse.request("GET", f"{dataverse.api}/accounts", params={"$filter": "nope eq 1"})
    assert "Could not find a property named 'nope'" in err.value.message
    assert dataverse.test().ok


def test_lookups_bind_by_odata_bind_and_filter_by_value_column(dataverse):
    account = store.get_by_external_id(VENDOR, "accounts", "C-10003").record_id
    made = dataverse.create(
        "contacts",
        {
            "firstname": "Ana",
            "lastname": "Ito",
            "emailaddress1": "ana@example.com",
            "parentcustomerid_account@odata.bind": f"/accounts({account})",
        },
    )
    found = dataverse.request(
        "GET", f"{dataverse.api}/contacts", params={"$filter": f"_parentcustomerid_value eq {account}"}
    ).json()["value"]
    assert made.remote_id in {c["contactid"] for c in found}
    with pytest.raises(ConnectorError) as err:
        dataverse.create(
            "contacts",
            {
                "lastname": "Nobody",
                "parentcustomerid_account@odata.bind": "/accounts(00000000-0000-0000-0000-000000000001)",
            },
        )
    assert err.value.status_code == 404 and "Does Not Exist" in err.value.message


def test_a_project_and_its_contract_line_bind_their_lookups_by_alternate_key(dataverse):
    """A flow sets a lookup as `<nav>.bind` (a map step cannot write `@odata.bind`); the
    lookup names its record by an alternate key, as a flow knows it, not by GUID."""
    account = store.get_by_external_id(VENDOR, "accounts", "C-10003").record_id
    project = dataverse.upsert(
        "msdyn_projects",
        "sb_externalref",
        "006-opp-1",
        {"msdyn_subject": "Data Platform", "msdyn_customer_account": {"bind": "/accounts(accountnumber='C-10003')"}},
    ).remote_id
    line = dataverse.upsert(
        "salesorderdetails",
        "sb_externalref",
        "006-opp-1",
        {"msdyn_billingmethod": 192350001, "msdyn_Project": {"bind": "/msdyn_projects(sb_externalref='006-opp-1')"}},
    ).remote_id
    assert dataverse.read("msdyn_projects", project)["_msdyn_customer_value"] == account
    written = dataverse.read("salesorderdetails", line)
    assert (written["msdyn_billingmethod"], written["_msdyn_project_value"]) == (192350001, project)
    with pytest.raises(ConnectorError) as err:  # no such account number: nothing is written
        dataverse.upsert(
            "msdyn_projects", "sb_externalref", "006-opp-2",
            {"msdyn_subject": "Other", "msdyn_customer_account": {"bind": "/accounts(accountnumber='NOPE')"}},
        )  # fmt: skip
    assert err.value.status_code == 404 and "accountnumber = NOPE Does Not Exist" in err.value.message
    assert dataverse.find_by_external_ref("msdyn_projects", "sb_externalref", "006-opp-2") is None
    with pytest.raises(ConnectorError) as err:  # a billing method Project Operations does not have
        dataverse.update("salesorderdetails", line, {"msdyn_billingmethod": 3})
    assert err.value.status_code == 400 and "'msdyn_billingmethod'" in err.value.message
    assert "outside the valid range" in err.value.message


def test_dropped_answer_then_retried_upsert_writes_one_record(dataverse):
    SandboxFault.objects.create(vendor=VENDOR, kind="drop_after_commit", writes_only=True)
    with pytest.raises(ConnectorError) as err:
        dataverse.upsert("msdyn_projects", "sb_externalref", "PRJ-2026-0001", {"msdyn_subject": "Rollout"})
    assert err.value.transient and err.value.ambiguous
    retry = dataverse.upsert("msdyn_projects", "sb_externalref", "PRJ-2026-0001", {"msdyn_subject": "Rollout"})
    assert not retry.created  # the first attempt had landed
    assert store.records(VENDOR, "msdyn_projects").filter(external_id="PRJ-2026-0001").count() == 1


def test_an_absent_alternate_key_is_detected_and_upserts_look_up_first(dataverse, sandbox_origin):
    """Alternate keys exist only where an admin defined them: without one, PATCH by the key
    is refused, so the connector looks the record up by the column instead."""
    keys.set_keys("msdyn_timeentries", [])
    conn = connector_for(sandbox_origin)
    assert conn.alternate_keys("msdyn_timeentries") == set()
    assert not conn.idempotent_upsert("msdyn_timeentries", "sb_externalref")  # the ledger settles by look-up
    assert conn.idempotent_upsert("accounts", "accountnumber")
    with pytest.raises(ConnectorError) as err:  # what the old connector sent
        conn.request("PATCH", f"{conn.api}/msdyn_timeentries(sb_externalref='KAN-1')", json={"msdyn_duration": 60})
    assert err.value.status_code == 400 and "not defined" in err.value.message
    first = conn.upsert("msdyn_timeentries", "sb_externalref", "KAN-1", {"msdyn_duration": 60})
    second = conn.upsert("msdyn_timeentries", "sb_externalref", "KAN-1", {"msdyn_duration": 90})
    rows = [r for r in store.records(VENDOR, "msdyn_timeentries") if r.data.get("sb_externalref") == "KAN-1"]
    assert first.created and not second.created and first.remote_id == second.remote_id
    assert len(rows) == 1 and rows[0].data["msdyn_duration"] == 90
    result = conn.test()
    assert result.ok  # a missing key is a warning, not a broken connection
    check = next(c for c in result.checks if c.name == "Alternate key msdyn_timeentries.sb_externalref")
    assert not check.ok and "Define a key on sb_externalref" in check.detail
    assert next(c for c in result.checks if c.name == "Alternate key accounts.accountnumber").ok


def test_the_look_up_field_is_configurable(dataverse, sandbox_origin):
    keys.set_keys("msdyn_projects", [])
    conn = connector_for(sandbox_origin, config={"lookup_fields": "msdyn_projects=msdyn_subject"})
    conn.upsert("msdyn_projects", "sb_externalref", "PRJ-9", {"msdyn_subject": "Rollout Z"})
    conn.upsert("msdyn_projects", "sb_externalref", "PRJ-9b", {"msdyn_subject": "Rollout Z", "msdyn_description": "x"})
    rows = [r for r in store.records(VENDOR, "msdyn_projects") if r.data.get("msdyn_subject") == "Rollout Z"]
    assert len(rows) == 1 and rows[0].data["msdyn_description"] == "x"


def _open_opportunity() -> SandboxRecord:
    return next(r for r in store.records(VENDOR, "opportunities").order_by("id") if r.data.get("statecode") == 0)


def test_winning_an_opportunity_is_the_win_opportunity_action(dataverse, sandbox_origin):
    row = _open_opportunity()
    with pytest.raises(ConnectorError) as err:  # a statecode write is refused, as in Dataverse
        dataverse.request(
            "PATCH", f"{dataverse.api}/opportunities({row.record_id})", json={"statecode": 1}, headers={"If-Match": "*"}
        )
    assert err.value.status_code == 400 and "WinOpportunity" in err.value.message
    attempts = []
    conn = DynamicsConnector(dataverse.connection, on_attempt=attempts.append)
    conn.update("opportunities", row.record_id, {"statecode": 1, "actualvalue": 5000, "actualclosedate": "2026-01-05"})
    row.refresh_from_db()
    assert (row.data["statecode"], row.data["statuscode"], row.data["actualvalue"]) == (1, 3, 5000)
    assert row.data["actualclosedate"] == "2026-01-05"
    assert [a.url.rsplit("/", 1)[-1] for a in attempts if a.method == "POST"] == ["WinOpportunity"]
    with pytest.raises(ConnectorError) as err:
        conn.win_opportunity(row.record_id)
    assert "already closed" in err.value.message


def test_bulk_writes_go_in_one_batch_change_set(dataverse):
    made = dataverse.write_many("accounts", [{"name": f"Batch Co {n}", "accountnumber": f"B-{n}"} for n in range(3)])
    assert len(made) == 3 and all(r.created and r.remote_id for r in made)
    assert {store.get(VENDOR, "accounts", r.remote_id).data["name"] for r in made} == {
        "Batch Co 0",
        "Batch Co 1",
        "Batch Co 2",
    }
    before = store.records(VENDOR, "accounts").count()
    with pytest.raises(ConnectorError) as err:  # the third is too long: the change set rolls back
        dataverse.write_many("accounts", [{"name": "Ok 1"}, {"name": "Ok 2"}, {"name": "x" * 200}])
    assert err.value.kind == "permanent" and "rolled back" in err.value.message
    assert store.records(VENDOR, "accounts").count() == before
    updated = dataverse.write_many("accounts", [{"accountid": made[0].remote_id, "name": "Batch Co Renamed"}])
    assert (
        not updated[0].created and store.get(VENDOR, "accounts", made[0].remote_id).data["name"] == "Batch Co Renamed"
    )


def test_reads_expand_the_related_account(dataverse, sandbox_origin):
    conn = connector_for(sandbox_origin, config={"expand": "opportunities=parentaccountid($select=name,accountnumber)"})
    row = store.records(VENDOR, "opportunities").order_by("id").first()
    account = store.get(VENDOR, "accounts", row.data["_parentaccountid_value"]).data
    read = conn.read("opportunities", row.record_id)
    assert read["parentaccountid"]["name"] == account["name"]
    assert set(read["parentaccountid"]) == {"accountid", "name", "accountnumber"}
    page = conn.query("opportunities", page_size=5)
    assert all(r["parentaccountid"] and r["parentaccountid"]["accountid"] for r in page.records)
    with pytest.raises(ConnectorError) as err:
        conn.request("GET", f"{conn.api}/opportunities", params={"$expand": "nosuchnav"})
    assert "nosuchnav" in err.value.message
