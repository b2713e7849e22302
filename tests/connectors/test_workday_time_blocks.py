"""Workday worker time blocks on the documented Time Tracking resource: created under the
worker (`…/workers/{ID}/workerTimeBlock`), changed with PATCH there, found again through
`…/workerTimeBlocks` by worker, date, time entry code and project — Workday has no external
reference or idempotency key for them, so the look-up trusts only a row carrying all four,
and a dropped answer to a POST is an unclear delivery that looks up before posting again."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import httpx
import pytest

from integrations.connectors.errors import ConnectorError
from integrations.deliveries import transport
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.models import SandboxFault, SandboxRequest
from integrations.sandboxes.workday import TENANT, VENDOR
from integrations.sandboxes.workday import time_blocks as sandbox_blocks
from integrations.sandboxes.workday.auth import isu_username
from integrations.sandboxes.workday.seed import project_id, seed, time_entry_code_id
from tests.connectors.shapes import assert_upserted_once, refusal
from tests.connectors.test_workday import a_worker, connector_for

pytestmark = pytest.mark.django_db(transaction=True)

TIME = f"ccx/api/timeTracking/v5/{TENANT}"
BILLABLE, NON_BILLABLE = time_entry_code_id("billable"), time_entry_code_id("nonbillable")
PROJECT = project_id("PRJ-2025-0001")
DAY = "2025-04-16"


@pytest.fixture
def workday(origin):
    seed("test")
    return connector_for(origin)


def workers() -> list[str]:
    return list(store.records(VENDOR, "workers").order_by("id").values_list("record_id", flat=True))


def block(worker_id: str, **extra) -> dict:
    return {
        "worker": {"id": worker_id},
        "calendarDate": DAY,
        "reportedQuantity": 7.5,
        "timeEntryCode": {"id": BILLABLE},
        "comment": "Data migration workshop",
        **extra,
    }


def key(worker_id: str, day: str = DAY, code: str = BILLABLE, project: str = "") -> str:
    return f"{worker_id}|{day}|{code}|{project}"


def blocks():
    return store.records(VENDOR, sandbox_blocks.OBJECT)


def posts() -> int:
    return SandboxRequest.objects.filter(vendor=VENDOR, method="POST", path__contains="/workerTimeBlock").count()


def test_a_block_is_posted_under_its_worker_with_the_documented_fields(workday, origin):
    attempts = []
    conn = connector_for(origin, on_attempt=attempts.append)
    worker_id = a_worker()
    made = conn.create("time_blocks", block(worker_id, project={"id": PROJECT}))
    assert made.created and made.status_code == 201 and len(made.remote_id) == 32
    (post,) = [a for a in attempts if a.method == "POST" and "/ccx/api/" in a.url]
    assert post.url.endswith(f"/{TIME}/workers/{worker_id}/workerTimeBlock")
    assert '"worker"' not in post.request_excerpt  # the worker is the path's
    stored = workday.read("time_blocks", made.remote_id)
    assert stored["worker"]["id"] == worker_id and stored["calendarDate"] == DAY
    assert stored["reportedQuantity"] == 7.5 and stored["timeEntryCode"]["descriptor"] == "Billable Hours"
    assert stored["project"]["id"] == PROJECT
    assert [r["id"] for r in workday.query("time_blocks").records] == [made.remote_id]


def test_in_out_entry_takes_times_with_their_zones(workday):
    zone = {"id": "Time_Zone_ID=America/New_York"}
    times = {"inTime": "2025-04-16T09:00:00-04:00", "outTime": "2025-04-16T12:30:00-04:00"}
    record = {"worker": {"id": a_worker()}, "timeEntryCode": {"id": BILLABLE}, **times}
    made = workday.create("time_blocks", {**record, "inTimeZone": zone, "outTimeZone": zone})
    assert workday.read("time_blocks", made.remote_id)["calendarDate"] == DAY
    error = refusal(workday.create, "time_blocks", record)  # zones missing
    assert error.status_code == 400 and error.vendor_code == "inTimeZone"


def test_the_invented_path_and_fields_are_refused_as_workday_would(workday):
    """The old `…/timeBlocks` resource and its `date`, `quantity`, `externalReferenceID` do
    not exist in Workday's Time Tracking service: 404 and 400 naming the field."""
    worker_id = a_worker()
    old = {"worker": {"id": worker_id}, "date": DAY, "quantity": 7.5, "timeEntryCode": {"id": BILLABLE}}
    answer = workday.request("POST", f"{TIME}/timeBlocks", json=old, raise_for_status=False)
    assert answer.status_code == 404 and "not found" in answer.json()["error"]
    for name, value in (("date", DAY), ("quantity", 7.5), ("externalReferenceID", "KAN-TE-1")):
        body = {**block(worker_id), name: value}
        body.pop("worker")
        answer = workday.request("POST", f"{TIME}/workers/{worker_id}/workerTimeBlock", json=body,
                                 raise_for_status=False)  # fmt: skip
        assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == name, name
    with pytest.raises(ConnectorError):  # nor is a look-up by the invented reference offered
        workday.find_by_external_ref("time_blocks", "externalReferenceID", "KAN-TE-1")
    assert not blocks().exists()


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"reportedQuantity": 30}, 400, "reportedQuantity"),
        ({"reportedQuantity": "7.5"}, 400, "reportedQuantity"),
        ({"calendarDate": "16/04/2025"}, 400, "calendarDate"),
        ({"timeEntryCode": {"id": "f" * 32}}, 400, "timeEntryCode"),
        ({"project": {"id": "f" * 32}}, 400, "project"),
        ({"inTime": "2025-04-16T09:00:00Z"}, 400, "reportedQuantity"),
        ({"worker": {"id": "f" * 32}}, 404, None),
    ],
)
def test_invalid_blocks_are_permanent_errors_naming_the_field(workday, change, status, field):
    error = refusal(workday.create, "time_blocks", {**block(a_worker()), **change})
    assert error.kind == "permanent" and error.status_code == status and error.vendor_code == field
    assert not blocks().exists()


def test_upsert_by_block_key_twice_gives_one_block(workday):
    worker_id = a_worker()
    ref = key(worker_id, project=PROJECT)
    on_project = {"project": {"id": PROJECT}}
    first = workday.upsert("time_blocks", "blockKey", ref, block(worker_id, **on_project))
    second = workday.upsert("time_blocks", "blockKey", ref, block(worker_id, **on_project, reportedQuantity=8))
    row = assert_upserted_once(first, second, blocks())
    assert row.data["reportedQuantity"] == 8 and posts() == 1
    patch = SandboxRequest.objects.get(vendor=VENDOR, method="PATCH")
    assert patch.path.endswith(f"/workers/{worker_id}/workerTimeBlock/{first.remote_id}")
    # Another code (or no project) on the same day is another block.
    other_code = block(worker_id, timeEntryCode={"id": NON_BILLABLE})
    other = workday.upsert("time_blocks", "blockKey", key(worker_id, code=NON_BILLABLE), other_code)
    assert other.created and blocks().count() == 2


def test_the_key_fills_what_the_record_leaves_out_and_must_agree_with_what_it_gives(workday):
    mine, theirs = workers()[:2]
    made = workday.upsert("time_blocks", "blockKey", key(mine), {"reportedQuantity": 4})
    assert made.created and blocks().get().data["worker"]["id"] == mine
    error = refusal(workday.upsert, "time_blocks", "blockKey", key(theirs), block(mine))
    assert error.kind == "permanent" and error.vendor_code == "blockKey" and "worker" in error.message
    assert refusal(workday.upsert, "time_blocks", "blockKey", "just-a-reference", block(mine)).vendor_code == "blockKey"
    # A plain create carrying the key (the ledger's create with an external id) is filled the same way.
    made = workday.create("time_blocks", {"blockKey": key(theirs, day="2025-04-17"), "reportedQuantity": 3})
    assert store.get(VENDOR, sandbox_blocks.OBJECT, made.remote_id).data["worker"]["id"] == theirs
    assert blocks().count() == 2


def test_a_look_up_never_takes_a_listed_row_on_trust(workday, monkeypatch):
    """A service that ignored the list filters answers every block: only a row whose worker,
    date, code and project all equal the key's may become the target of an update."""
    mine, theirs = workers()[:2]
    workday.create("time_blocks", block(theirs))
    workday.create("time_blocks", block(mine, calendarDate="2025-04-17"))
    workday.create("time_blocks", block(mine, timeEntryCode={"id": NON_BILLABLE}))
    workday.create("time_blocks", block(mine, project={"id": PROJECT}))
    monkeypatch.setattr(sandbox_blocks, "filtered", lambda rows, request: rows)
    listed = workday.request("GET", f"{TIME}/workerTimeBlocks", params={"worker": mine, "fromDate": DAY}).json()
    assert listed["total"] == 4
    assert workday.find_by_external_ref("time_blocks", "blockKey", key(mine)) is None
    updated = workday.upsert("time_blocks", "blockKey", key(mine), block(mine, reportedQuantity=2))
    assert updated.created and blocks().count() == 5
    assert sorted(r.data["reportedQuantity"] for r in blocks()) == [2, 7.5, 7.5, 7.5, 7.5]


def test_two_blocks_with_one_key_are_refused_not_guessed(workday):
    worker_id = a_worker()
    workday.create("time_blocks", block(worker_id))
    workday.create("time_blocks", block(worker_id, comment="entered by hand in Workday"))
    error = refusal(workday.upsert, "time_blocks", "blockKey", key(worker_id), block(worker_id, reportedQuantity=1))
    assert error.kind == "permanent" and "no idempotency key" in error.message
    assert sorted(r.data["reportedQuantity"] for r in blocks()) == [7.5, 7.5]


def delivery(ref: str, payload: dict) -> SimpleNamespace:
    """The fields of a ledger row that transport.send reads."""
    return SimpleNamespace(action="upsert", object="time_blocks", external_id_field="blockKey", external_id=ref,
                           payload=payload, needs_lookup=False, unclear_attempts=0, send_key="delivery-1",
                           connection=SimpleNamespace(config={}))  # fmt: skip


def test_a_dropped_answer_is_unclear_and_the_next_attempt_finds_the_block_instead_of_posting(workday):
    worker_id = a_worker()
    row = delivery(key(worker_id), block(worker_id))
    assert not transport.is_idempotent(row, workday)
    SandboxFault.objects.create(vendor=VENDOR, kind="drop_after_commit", writes_only=True)
    with pytest.raises(transport.UnclearOutcome):
        transport.send(row, workday)
    row.needs_lookup, row.unclear_attempts = True, 1
    sent = transport.send(row, workday)
    assert sent.found and sent.result.remote_id == blocks().get().record_id and posts() == 1


def test_when_the_unclear_attempts_run_out_and_nothing_is_found_it_is_uncertain(workday):
    worker_id = a_worker()
    row = delivery(key(worker_id), block(worker_id))
    SandboxFault.objects.create(vendor=VENDOR, kind="status", status_code=504, writes_only=True)
    with pytest.raises(transport.UnclearOutcome):
        transport.send(row, workday)
    row.needs_lookup, row.unclear_attempts = True, transport.max_unclear_attempts(row.connection)
    with pytest.raises(transport.Uncertain):
        transport.send(row, workday)
    assert not blocks().exists()


def test_basic_auth_is_refused_on_the_time_tracking_resources(workday, origin):
    creds = sandbox_credentials(VENDOR)
    basic = "Basic " + base64.b64encode(f"{isu_username()}:{creds['password']}".encode()).decode()
    url = f"{origin}/sandbox/{VENDOR}/{TIME}/workers/{a_worker()}/workerTimeBlock"
    answer = httpx.post(url, json=block(a_worker()), headers={"Authorization": basic})
    assert answer.status_code == 401 and "do not accept Basic" in answer.json()["error"]
    attempts = []
    error = refusal(connector_for(origin, mode="basic", on_attempt=attempts.append).create, "time_blocks",
                    block(a_worker()))  # fmt: skip
    assert error.kind == "permanent" and "OAuth" in error.message and attempts == []
    assert not blocks().exists()
