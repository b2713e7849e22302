"""Workday: the connector against its sandbox over real HTTP (auth, workers, the RaaS report;
worker time blocks are in test_workday_time_blocks.py)."""

from __future__ import annotations

import pytest

from integrations.connectors.errors import ConnectorError
from integrations.connectors.workday import WorkdayConnector
from integrations.sandboxes import bearer
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.models import SandboxFault
from integrations.sandboxes.workday import REPORT_NAME, REPORT_OWNER, TENANT, VENDOR
from integrations.sandboxes.workday.auth import isu_username
from integrations.sandboxes.workday.seed import seed, wid
from tests.connectors.contract import make_connection
from tests.connectors.shapes import assert_transient, limit_sandbox, refusal

pytestmark = pytest.mark.django_db(transaction=True)


def connector_for(origin: str, *, mode: str = "oauth", on_attempt=None, **secret_overrides) -> WorkdayConnector:
    creds = sandbox_credentials(VENDOR)
    config = {
        "tenant": TENANT,
        "auth_mode": mode,
        "client_id": creds["client_id"],
        "username": isu_username(),
        "report_owner": REPORT_OWNER,
        "report_name": REPORT_NAME,
    }
    secrets = {
        "client_secret": creds["client_secret"],
        "refresh_token": creds["refresh_token"],
        "password": creds["password"],
        **secret_overrides,
    }
    connection = make_connection("workday", f"{origin}/sandbox/{VENDOR}", config, secrets)
    return WorkdayConnector(connection, on_attempt=on_attempt)


@pytest.fixture
def workday(origin):
    seed("test")
    return connector_for(origin)


def a_worker() -> str:
    return store.records(VENDOR, "workers").order_by("id").first().record_id


@pytest.mark.parametrize(
    ("mode", "override", "status", "text"),
    [
        ("oauth", {"client_secret": "nope"}, 401, "Invalid client credentials"),
        ("oauth", {"refresh_token": "revoked"}, 400, "Invalid refresh token"),
        ("basic", {"password": "nope"}, 401, "invalid request: unauthorized"),
    ],
)
def test_bad_credentials_are_permanent_with_workday_message(origin, mode, override, status, text):
    conn = connector_for(origin, mode=mode, **override)
    with pytest.raises(ConnectorError) as err:
        conn.query("workers" if mode == "oauth" else "worker_report", page_size=1)
    assert err.value.kind == "permanent" and err.value.status_code == status and text in err.value.message


def test_expired_token_is_refreshed_once_and_basic_auth_works(workday, origin):
    attempts = []
    conn = connector_for(origin, on_attempt=attempts.append)
    worker_id = a_worker()
    assert conn.read("workers", worker_id)["id"] == worker_id
    bearer.revoke_all(VENDOR)
    assert conn.read("workers", worker_id)["href"].endswith(f"/workers/{worker_id}")
    assert [a.status_code for a in attempts] == [200, 200, 401, 200, 200]
    assert sum("/ccx/oauth2/" in a.url for a in attempts) == 2
    assert all(conn.credentials["refresh_token"] not in a.request_excerpt for a in attempts)
    basic = connector_for(origin, mode="basic")
    assert basic.query("worker_report").records  # reports-as-a-service take Basic
    assert basic.test().ok


def test_basic_auth_is_refused_on_rest_by_the_sandbox_and_the_connector(workday, origin):
    """Workday's REST APIs take OAuth tokens; Basic (the ISU) works for RaaS only."""
    import base64

    import httpx

    creds = sandbox_credentials(VENDOR)
    basic = "Basic " + base64.b64encode(f"{isu_username()}:{creds['password']}".encode()).decode()
    answer = httpx.get(f"{origin}/sandbox/{VENDOR}/ccx/api/v1/{TENANT}/workers", headers={"Authorization": basic})
    assert answer.status_code == 401 and "do not accept Basic" in answer.json()["error"]
    attempts = []
    conn = connector_for(origin, mode="basic", on_attempt=attempts.append)
    with pytest.raises(ConnectorError) as err:
        conn.read("workers", a_worker())
    assert err.value.kind == "permanent" and "OAuth" in err.value.message
    assert attempts == []  # refused before any call
    result = conn.test()
    assert result.ok and [c.name for c in result.checks] == ["Authentication", "Report"]


def test_connection_test_reports_token_permissions_and_version(workday, origin):
    result = workday.test()
    assert result.ok
    names = [c.name for c in result.checks]
    assert names == ["Token", "Permissions: workers", "Permissions: time tracking", "Report", "API version"]
    bad = connector_for(origin, refresh_token="revoked").test()
    assert not bad.ok and "refresh token" in bad.checks[0].detail


def test_read_worker_and_unknown_id(workday):
    worker = workday.read("workers", a_worker())
    assert len(worker["id"]) == 32 and worker["primaryWorkEmail"].endswith("@firm.example")
    assert set(worker["primaryJob"]) >= {"id", "descriptor", "jobProfile"}
    with pytest.raises(ConnectorError) as err:
        workday.read("workers", "0" * 32)
    assert err.value.status_code == 404 and "not a valid worker" in err.value.message


def test_offset_pagination_over_1100_workers(workday):
    template = store.get(VENDOR, "workers", a_worker()).data
    store.bulk_load(
        VENDOR,
        "workers",
        (
            (wid("bulk", str(n)), {**template, "id": wid("bulk", str(n)), "workerId": str(30000 + n)}, str(30000 + n))
            for n in range(1100)
        ),
    )
    attempts = []
    conn = WorkdayConnector(workday.connection, on_attempt=attempts.append)
    workers = list(conn.iterate("workers"))
    assert len(workers) == 1124 and len({w["id"] for w in workers}) == 1124
    pages = [a for a in attempts if "/workers" in a.url]
    assert len(pages) == 12 and "offset=1100" in pages[-1].url


def test_worker_report_polls_since_a_watermark(workday):
    first = workday.query("worker_report")
    assert len(first.records) == 24 and first.watermark
    row = store.get(VENDOR, "workers", a_worker())
    store.update(row, {"lastUpdated": "2026-02-01T08:00:00.000Z", "businessTitle": "Principal"})
    changed = workday.query("worker_report", since=first.watermark)
    assert [r["Worker_WID"] for r in changed.records] == [row.record_id]
    assert changed.records[0]["Business_Title"] == "Principal" and changed.watermark == "2026-02-01T08:00:00.000Z"


@pytest.mark.parametrize("kind", ["throttle", "maintenance", "rate_limit"])
def test_throttling_is_transient_with_retry_after(workday, kind):
    if kind == "rate_limit":
        limit_sandbox(VENDOR, 1, 600)
        workday.query("workers", page_size=1)
    else:
        SandboxFault.objects.create(vendor=VENDOR, kind=kind, retry_after=25)
    error = refusal(workday.query, "workers", page_size=1)
    assert_transient(error)
    assert error.status_code in (429, 503)
    assert error.retry_after == 25 if kind != "rate_limit" else 0 < error.retry_after <= 600


def test_workers_are_found_by_employee_id_or_work_email(workday):
    row = store.get(VENDOR, "workers", a_worker())
    assert workday.find_by_external_ref("workers", "workerId", row.data["workerId"]).remote_id == row.record_id
    by_email = workday.find_by_external_ref("workers", "primaryWorkEmail", row.data["primaryWorkEmail"].upper())
    assert by_email.remote_id == row.record_id
    assert workday.find_by_external_ref("workers", "workerId", "99999") is None
    with pytest.raises(ConnectorError):
        workday.find_by_external_ref("workers", "businessTitle", "Consultant")
