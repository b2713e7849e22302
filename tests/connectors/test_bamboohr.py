"""BambooHR: the connector against its sandbox over real HTTP, with every request the
connector sends and every answer the sandbox gives checked against BambooHR's own
OpenAPI 3.1 document (read at test time; see tests/connectors/openapi.py)."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from integrations.connectors.bamboohr import BambooHRConnector
from integrations.connectors.errors import ConnectorError, WebhookRejected
from integrations.events.models import Event
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.bamboohr import VENDOR
from integrations.sandboxes.bamboohr.seed import seed
from integrations.sandboxes.bamboohr.webhooks import sign
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.models import SandboxFault
from tests.connectors.contract import make_connection, wait_for
from tests.connectors.openapi import bamboohr as spec
from tests.connectors.shapes import assert_transient, assert_upserted_once, limit_sandbox, refusal

pytestmark = pytest.mark.django_db(transaction=True)


class SpecRecorder:
    """Every exchange of one connector, validated against the OpenAPI document."""

    def __init__(self, connector: BambooHRConnector):
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []
        self.check_request_bodies = True  # off where a test sends an invalid body on purpose
        connector.http._client.event_hooks["response"].append(self._keep)

    def _keep(self, response: httpx.Response) -> None:
        response.read()
        self.exchanges.append((response.request, response))

    @staticmethod
    def template(path: str) -> str:
        path = path.removeprefix(f"/sandbox/{VENDOR}")
        matches = [t for t in spec().doc["paths"] if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), path)]
        assert matches, f"{path} is not a path in BambooHR's OpenAPI document"
        return min(matches, key=lambda t: t.count("{"))

    def validate(self) -> int:
        for request, response in self.exchanges:
            path, method = self.template(request.url.path), request.method
            spec().validate_query(path, method, list(request.url.params.multi_items()))
            if request.content and self.check_request_bodies:
                spec().validate_request_body(path, method, json.loads(request.content))
            body = response.json() if response.content else None
            spec().validate_response(path, method, response.status_code, body)
        return len(self.exchanges)


def connector_for(origin: str, api_key: str | None = None, **creds) -> BambooHRConnector:
    key = api_key or sandbox_credentials(VENDOR)["api_key"]
    connection = make_connection(
        "bamboohr", f"{origin}/sandbox/{VENDOR}", {"company_domain": "acme"}, {"api_key": key, **creds}
    )
    return BambooHRConnector(connection)


@pytest.fixture
def bamboo(origin):
    seed("test")
    conn = connector_for(origin)
    conn.recorder = SpecRecorder(conn)
    yield conn
    assert conn.recorder.validate() == len(conn.recorder.exchanges)


def test_bad_api_key_is_permanent_with_bamboohr_message(origin):
    conn = connector_for(origin, api_key="not-the-key")
    recorder = SpecRecorder(conn)
    with pytest.raises(ConnectorError) as err:
        conn.read("employees", "101")
    assert err.value.kind == "permanent" and err.value.status_code == 401
    assert "Invalid API key." in err.value.message and "not-the-key" not in err.value.message
    recorder.validate()


def test_read_employee_by_id(bamboo):
    record = bamboo.read("employees", "101")
    assert (
        record["id"] == "101" and record["employeeNumber"] == "21001" and record["workEmail"].endswith("@firm.example")
    )
    with pytest.raises(ConnectorError) as err:
        bamboo.read("employees", "99999")
    assert err.value.status_code == 404 and err.value.kind == "permanent"


def test_cursor_paginated_list_of_1200_employees(bamboo):
    template = store.get(VENDOR, "employee", "101").data
    store.bulk_load(
        VENDOR,
        "employee",
        (
            (
                str(1000 + n),
                {**template, "employeeNumber": f"B-{n:05d}", "workEmail": f"bulk{n}@firm.example", "status": "Active"},
                f"bulk{n}@firm.example",
            )
            for n in range(1200)
        ),
    )
    records = list(bamboo.iterate("employees"))
    assert len(records) == 1224 and len({r["id"] for r in records}) == 1224
    assert {"workEmail", "department", "jobTitle", "hireDate"} <= set(records[0])
    pages = [r for r, _ in bamboo.recorder.exchanges if r.url.path.endswith("/employees")]
    assert len(pages) == 13 and pages[1].url.params["page[after]"] == "1075"
    first = bamboo.query("employees")
    assert first.watermark and json.loads(first.next_cursor)["started"] == first.watermark
    assert bamboo.query("employees", since=first.watermark).records == []  # nothing changed since the scan


def test_poll_since_uses_changed_then_batch_reads(bamboo):
    time.sleep(0.01)
    before = "2025-06-01T00:00:00Z"
    bamboo.update("employees", "105", {"jobTitle": "Principal"})
    page = bamboo.query("employees", since=before)
    assert [r["id"] for r in page.records] == ["105"] and page.records[0]["jobTitle"] == "Principal"
    assert page.watermark > before and page.next_cursor is None
    assert bamboo.query("employees", since=page.watermark).records == []


def test_create_employee_takes_id_from_location(bamboo):
    result = bamboo.create(
        "employees",
        {
            "firstName": "Ada",
            "lastName": "Okafor",
            "workEmail": "ada.okafor@firm.example",
            "hireDate": "2025-05-01",
            "jobTitle": "Consultant",
        },
    )
    assert result.created and result.status_code == 201
    assert store.get(VENDOR, "employee", result.remote_id).data["lastName"] == "Okafor"


def test_upsert_by_work_email_twice_gives_one_employee(bamboo):
    first = bamboo.upsert("employees", "workEmail", "lin.zhou@firm.example", {"firstName": "Lin", "lastName": "Zhou"})
    second = bamboo.upsert(
        "employees",
        "workEmail",
        "lin.zhou@firm.example",
        {"firstName": "Lin", "lastName": "Zhou", "jobTitle": "Manager"},
    )
    rows = store.records(VENDOR, "employee").filter(external_id="lin.zhou@firm.example")
    assert assert_upserted_once(first, second, rows).data["jobTitle"] == "Manager"


def test_upsert_by_employee_number_matches_through_the_dataset(bamboo):
    result = bamboo.upsert("employees", "employeeNumber", "21003", {"firstName": "Renamed", "lastName": "Person"})
    assert not result.created and result.remote_id == "103"
    assert store.get(VENDOR, "employee", "103").data["firstName"] == "Renamed"
    assert store.records(VENDOR, "employee").count() == 24
    created = bamboo.upsert("employees", "employeeNumber", "E-9001", {"firstName": "New", "lastName": "Hire"})
    assert created.created and store.get(VENDOR, "employee", created.remote_id).data["employeeNumber"] == "E-9001"


@pytest.mark.parametrize(("kind", "status"), [("throttle", 429), ("maintenance", 503)])
def test_throttling_is_transient_with_retry_after(origin, kind, status):
    seed("test")
    conn = connector_for(origin)
    recorder = SpecRecorder(conn)
    SandboxFault.objects.create(vendor=VENDOR, kind=kind, retry_after=42)
    assert_transient(refusal(conn.query, "employees"), status=status, retry_after=42)
    if status == 429:  # the document declares 429 (no body) on List Employees; it does not declare 503
        recorder.validate()


def test_the_sandbox_rate_limit_answers_429_with_the_window_remaining(bamboo):
    limit_sandbox(VENDOR, 1, 900)
    bamboo.query("employees", page_size=5)
    error = refusal(bamboo.query, "employees", page_size=5)  # List Employees is where the document declares 429
    assert_transient(error, status=429)
    assert 0 < error.retry_after <= 900


def test_webhook_log_quirk_http_200_with_429_body_is_transient(bamboo):
    hook = bamboo.create_webhook("https://hooks.example.com/bamboohr")
    assert bamboo.webhook_log(hook["id"]) == []
    SandboxFault.objects.create(vendor=VENDOR, kind="throttle")
    with pytest.raises(ConnectorError) as err:
        bamboo.webhook_log(hook["id"])
    assert err.value.kind == "transient" and err.value.retry_after == 60
    assert "Over rate limit" in err.value.message


@pytest.mark.parametrize(
    ("record", "status", "text"),
    [
        ({"firstName": "Ada"}, 400, "Missing required field(s): lastName."),
        (
            {"firstName": "Ada", "lastName": "Okafor", "hireDate": "01/05/2025"},
            409,
            "Invalid value for field 'hireDate'",
        ),
        (
            {"firstName": "Ada", "lastName": "Okafor", "workEmail": "not-an-email"},
            409,
            "Invalid value for field 'workEmail'",
        ),
    ],
)
def test_validation_errors_are_permanent_with_bamboohr_message(bamboo, record, status, text):
    before = store.records(VENDOR, "employee").count()
    bamboo.recorder.check_request_bodies = False  # each case breaks the schema on purpose
    with pytest.raises(ConnectorError) as err:
        bamboo.create("employees", record)
    assert err.value.kind == "permanent" and err.value.status_code == status and text in err.value.message
    assert store.records(VENDOR, "employee").count() == before


def test_employee_change_reaches_switchboard_signed_and_forgeries_are_refused(bamboo, origin):
    hook = bamboo.create_webhook(f"{origin}/hooks/{bamboo.connection.name}/", monitor_fields=("jobTitle",))
    creds = bamboo.connection.get_credentials()
    bamboo.connection.set_credentials({**creds, "webhook_private_key": hook["privateKey"]})
    bamboo.connection.save()
    bamboo.update("employees", "103", {"jobTitle": "Senior Manager"})
    assert wait_for(lambda: Event.objects.filter(source=bamboo.connection.name).exists())
    event = Event.objects.get(source=bamboo.connection.name)
    assert event.type == "employee.updated" and event.payload["employeeId"] == "103"
    assert event.payload["changedFields"] == ["jobTitle"]
    spec().validate_webhook(
        "employee.updated", {"type": event.type, "timestamp": "2025-01-01T00:00:00Z", "data": event.payload}
    )

    verifier = BambooHRConnector(bamboo.connection)
    body = json.dumps(
        {
            "type": "employee.updated",
            "timestamp": "2025-06-01T10:00:00Z",
            "data": {"companyId": "48213", "employeeId": "104", "changedFields": ["jobTitle"]},
        }
    ).encode()
    now = str(int(time.time()))
    good = {"X-BambooHR-Timestamp": now, "X-BambooHR-Signature": sign(hook["privateKey"], body, now)}
    verifier.verify_webhook(good, body)
    stale_at = str(int(time.time()) - 600)
    cases = {
        "forged body": (good, body.replace(b'"104"', b'"999"')),
        "wrong key": ({**good, "X-BambooHR-Signature": sign("0" * 64, body, now)}, body),
        "stale": (
            {"X-BambooHR-Timestamp": stale_at, "X-BambooHR-Signature": sign(hook["privateKey"], body, stale_at)},
            body,
        ),
    }
    url = f"{origin}/hooks/{bamboo.connection.name}/"
    for name, (headers, content) in cases.items():
        with pytest.raises(WebhookRejected):
            verifier.verify_webhook(headers, content)
        answer = httpx.post(url, content=content, headers={**headers, "Content-Type": "application/json"})
        assert answer.status_code == 401, name
    assert Event.objects.filter(source=bamboo.connection.name).count() == 1


def test_dropped_create_is_found_by_look_up_before_a_second_post(bamboo):
    SandboxFault.objects.create(vendor=VENDOR, kind="drop_after_commit", writes_only=True)
    with pytest.raises(ConnectorError) as err:
        bamboo.create("employees", {"firstName": "Kai", "lastName": "Berg", "employeeNumber": "E-7777"})
    assert err.value.transient and err.value.ambiguous
    found = bamboo.find_by_external_ref("employees", "employeeNumber", "E-7777")
    assert found is not None and store.get(VENDOR, "employee", found.remote_id).data["lastName"] == "Berg"


def test_connection_test_says_what_it_checked(bamboo, origin):
    result = bamboo.test()
    assert result.ok and [c.name for c in result.checks] == ["API key", "Permissions", "API version"]
    assert "acts as" in result.checks[0].detail
    bad = connector_for(origin, api_key="not-a-key").test()
    assert not bad.ok and not bad.checks[0].ok and "API Keys" in bad.checks[0].detail
    assert bad.checks[1].detail.startswith("Not checked")
