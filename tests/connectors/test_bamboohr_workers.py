"""BambooHR for an HR sync: the `worker_sync` object reads each changed employee whole (employee
number, status, lastChanged) with its compensation row in force, and the sandbox's compensation
table answers as BambooHR documents it (rows effective-dated, an added row closes the one it
follows and marks the employee changed, bad values refused naming the field)."""

from __future__ import annotations

import httpx
import pytest

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.bamboohr import VENDOR
from integrations.sandboxes.bamboohr.seed import seed
from integrations.sandboxes.credentials import sandbox_credentials
from tests.connectors.test_bamboohr import bamboo  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def table_url(origin: str, employee_id: str, table: str = "compensation") -> str:
    return f"{origin}/sandbox/{VENDOR}/api/v1/employees/{employee_id}/tables/{table}"


def post(origin: str, employee_id: str, body, table: str = "compensation") -> httpx.Response:
    auth = (sandbox_credentials(VENDOR)["api_key"], "x")
    return httpx.post(table_url(origin, employee_id, table), json=body, auth=auth)


def test_first_poll_reads_every_employee_whole_with_the_rate_in_force(bamboo):  # noqa: F811
    page = bamboo.query("worker_sync", page_size=10)
    assert len(page.records) == 10 and page.next_cursor and page.watermark
    first = page.records[0]
    seeded = store.get(VENDOR, "employee", "101").data
    assert (first["id"], first["employeeNumber"], first["workEmail"], first["status"]) == (
        "101", "21001", seeded["workEmail"], "Active")  # fmt: skip
    assert first["lastChanged"] == seeded["lastChanged"] and first["terminationDate"] is None
    rate = store.records(VENDOR, "compensation").get(data__employeeId="101").data["rate"]
    assert first["compensation"] == {"startDate": seeded["hireDate"], "rate": rate, "amount": rate.split()[0],
                                     "currency": "USD", "type": "Hourly", "paidPer": "Hour"}  # fmt: skip
    assert bamboo.read("worker_sync", "101") == first  # one employee, as a look-up reads it
    rest = bamboo.query("worker_sync", cursor=page.next_cursor, page_size=10)
    more = bamboo.query("worker_sync", cursor=rest.next_cursor, page_size=10)
    ids = [r["id"] for r in page.records + rest.records + more.records]
    assert len(ids) == 24 == len(set(ids)) and more.next_cursor is None
    # nothing changed since the listing began: the next poll finds nobody
    assert bamboo.query("worker_sync", since=more.watermark).records == []


def test_a_new_rate_is_in_force_from_its_start_date_and_the_employee_counts_as_changed(bamboo, origin):  # noqa: F811
    since = bamboo.query("worker_sync", page_size=1).watermark
    answer = post(origin, "105", {"startDate": "2026-07-01", "rate": {"value": "152.5", "currency": "EUR"},
                                  "type": "Hourly", "paidPer": "Hour", "reason": "Promotion"})  # fmt: skip
    assert answer.status_code == 200 and answer.content == b""
    page = bamboo.query("worker_sync", since=since)
    assert [r["id"] for r in page.records] == ["105"]
    assert page.records[0]["compensation"] == {"startDate": "2026-07-01", "rate": "152.50 EUR", "amount": "152.50",
                                               "currency": "EUR", "type": "Hourly", "paidPer": "Hour"}  # fmt: skip
    assert page.watermark == page.records[0]["lastChanged"] >= since
    rows = httpx.get(table_url(origin, "105"), auth=(sandbox_credentials(VENDOR)["api_key"], "x")).json()
    by_start = {r["startDate"]: r for r in rows}
    assert by_start["2026-07-01"]["endDate"] is None and by_start["2026-07-01"]["employeeId"] == "105"
    (older,) = [r for s, r in by_start.items() if s != "2026-07-01"]
    assert older["endDate"] == "2026-06-30"  # closed the day before the new row starts
    # the next poll re-reads the watermark's second (a change made in it is not missed): the
    # same record, which the poll stores as the event it already has
    assert bamboo.query("worker_sync", since=page.watermark).records == page.records


def test_a_salaried_row_gives_no_hourly_rate_and_a_leaver_reads_inactive(bamboo, origin):  # noqa: F811
    since = bamboo.query("worker_sync", page_size=1).watermark
    assert post(origin, "106", {"startDate": "2026-01-01", "rate": "90000 USD", "type": "Salary",
                                "paidPer": "Year"}).status_code == 200  # fmt: skip
    bamboo.update("employees", "107", {"status": "Inactive", "terminationDate": "2026-03-31"})
    salaried, leaver = bamboo.query("worker_sync", since=since).records
    assert salaried["compensation"]["paidPer"] == "Year" and salaried["compensation"]["amount"] == "90000.00"
    assert (leaver["id"], leaver["status"], leaver["terminationDate"]) == ("107", "Inactive", "2026-03-31")


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"startDate": "2026-01-01", "rate": "lots"}, 406, "'rate'"),
        ({"startDate": "01/02/2026", "rate": "10 USD"}, 406, "'startDate'"),
        ({"rate": "10 USD"}, 400, "startDate"),
        ({"startDate": "2026-01-01", "rate": "10 USD", "paidPer": "Fortnight"}, 406, "'paidPer'"),
        ({"startDate": "2026-01-01", "rate": "10 USD", "salary": 1}, 400, "salary"),
        ([1, 2], 400, "JSON object"),
    ],
)
def test_bad_compensation_rows_are_refused_naming_the_field(origin, body, status, says):
    seed("test")
    answer = post(origin, "101", body)
    assert answer.status_code == status and says in answer.headers["X-BambooHR-Error-Message"]
    assert store.records(VENDOR, "compensation").filter(data__employeeId="101").count() == 1


def test_unknown_employee_or_table_is_404(origin):
    seed("test")
    assert post(origin, "99999", {"startDate": "2026-01-01", "rate": "10 USD"}).status_code == 404
    assert post(origin, "101", {"startDate": "2026-01-01", "rate": "10 USD"}, table="jobInfo").status_code == 404
