"""Time to billing writes the billed status back to Kantata, end to end through a real worker
against the sandboxes: once a NetSuite time bill is posted, each of its entries gets one
external reference in Kantata (POST /external_references/create_or_update) naming the bill —
none while NetSuite is in a maintenance window (the bills are held, so are the write-backs),
exactly one per entry after the drain, none twice when the flow runs again. An entry on an
archived Kantata workspace, or on a finished one (status color blue), is refused with its
reason and never billed nor marked."""

import io
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.connections.models import Connection, MaintenanceWindow
from integrations.crosswalk import demo as crosswalk_demo
from integrations.deliveries.models import Delivery
from integrations.events.models import Event
from integrations.flows.models import Flow
from integrations.gallery.flows.time_to_billing import BILLED_MODEL
from integrations.runs.models import HeldDelivery, RunException
from integrations.sandboxes.models import SandboxRecord
from integrations.triggers.manual import replay_events
from tests.gallery.billing import links, posted_bills, rejected_reason
from tests.gallery.conftest import settle
from tests.gallery.test_time_to_billing_worker import all_ended, an_hour_later, batch_runs, pages_done, poll_all
from tests.reliability.harness import WORKER_TEST_MARKS

pytestmark = WORKER_TEST_MARKS
ENTRIES = 300
TIMEOUT = 300


@pytest.fixture
def billing(sandboxes, workers):
    sandboxes(ENTRIES)
    crosswalk_demo.seed(io.StringIO())
    return Flow.objects.get(key="time-to-billing")


def change_a_billed_workspace(other_than: str = "", **changes) -> str:
    """Change (in Kantata) the workspace of an entry the flow would bill; its id."""
    workers, projects = links("worker"), links("project")
    for row in SandboxRecord.objects.filter(vendor="kantata", object_type="time_entries").order_by("id"):
        if rejected_reason(row.data, workers, projects) is None and str(row.data["workspace_id"]) != other_than:
            workspace = SandboxRecord.objects.get(vendor="kantata", object_type="workspaces",
                                                  record_id=str(row.data["workspace_id"]))  # fmt: skip
            workspace.data = {**workspace.data, **changes}
            workspace.save(update_fields=["data"])
            return workspace.record_id
    raise AssertionError("no billable entry in the firm")


def polled_entries(flow) -> dict[str, dict]:
    entries: dict[str, dict] = {}
    for event in Event.objects.filter(source=f"poll:{flow.key}").order_by("id"):
        for entry in event.payload["records"]:
            entries.setdefault(str(entry["id"]), entry)
    return entries


def billable_entries(flow, refused: set[str]) -> dict[str, dict]:
    """The entries the flow must bill (and mark billed): every policy rule passed, independently
    recomputed, and not on a refused (archived or finished) workspace."""
    workers, projects = links("worker"), links("project")
    return {
        entry_id: entry
        for entry_id, entry in polled_entries(flow).items()
        if rejected_reason(entry, workers, projects) is None and str(entry["workspace_id"]) not in refused
    }


def billed_marks() -> list[dict]:
    """The billed external references on Kantata time entries, as the Kantata sandbox holds them."""
    rows = SandboxRecord.objects.filter(vendor="kantata", object_type="external_references",
                                        data__subject_type="TimeEntry", data__service_model=BILLED_MODEL)  # fmt: skip
    return [row.data for row in rows.order_by("id")]


def check_marked_once(flow, refused: set[str]) -> list[dict]:
    """One mark per billed entry, none for any other, each naming the bill that holds the entry:
    field by field, and per bill as many marks as the bill counts entries."""
    expected = billable_entries(flow, refused)
    marks = billed_marks()
    per_entry = Counter(str(m["subject_id"]) for m in marks)
    assert [e for e, n in per_entry.items() if n > 1] == [], "an entry was marked billed twice"
    assert set(per_entry) == set(expected), "the entries marked billed are not the ones billed"
    bills = {b["externalId"]: b for b in posted_bills()}
    workers, projects = links("worker"), links("project")
    per_bill: Counter = Counter()
    for mark in marks:
        entry_id = str(mark["subject_id"])
        entry = expected[entry_id]
        bill_id, _, marked_entry = mark["service_model_ref"].rpartition("#")
        assert marked_entry == entry_id
        assert bill_id in bills, f"{entry_id} marked billed on {bill_id}, which NetSuite does not hold"
        _, project, worker, month, _, _count = bill_id.split(":")
        assert (project, worker, month) == (
            projects[str(entry["workspace_id"])], workers[str(entry["user_id"])], entry["date_performed"][:7]
        )  # fmt: skip
        billable = bool(entry.get("billable") and entry["time_in_minutes"])
        assert (bills[bill_id]["isBillable"] in (True, "true", "True")) == billable
        assert mark["subject_type"] == "TimeEntry"
        assert mark["service_name"] == "switchboard"
        assert mark["service_model"] == BILLED_MODEL
        assert mark["status"] == "successful"
        assert mark["external_status"] == "billed"
        assert mark["external_message"] == f"billed on NetSuite time bill {bill_id}"
        assert mark["last_synced_at"]
        per_bill[bill_id] += 1
    for bill_id, marked in per_bill.items():
        assert marked == int(bill_id.split(":")[-1]), f"bill {bill_id}: {marked} entries marked"
    assert set(per_bill) == set(bills), "a posted bill has no entry marked billed"
    return marks


def test_billed_status_is_written_back_per_entry_only_after_the_bill_and_never_twice(billing, workers, personas):
    archived = change_a_billed_workspace(archived=True)
    finished = {"color": "blue", "key": 410, "message": "Completed"}  # a blue status: finished
    closed = change_a_billed_workspace(other_than=archived, status=finished)
    refused_workspaces = {archived, closed}
    netsuite = Connection.objects.get(name="netsuite")
    now = timezone.now()
    window = MaintenanceWindow.objects.create(
        connection=netsuite, kind="one_off", starts_at=now, ends_at=now + timedelta(hours=1), note="month end"
    )
    workers()
    assert poll_all(billing) == ENTRIES
    settle(pages_done(billing), timeout=TIMEOUT)
    an_hour_later()

    def bills_held():
        bills = Delivery.objects.filter(object="timeBill")
        return (
            not batch_runs(billing).exclude(status__in=("succeeded", "failed", "waiting-delivery")).exists()
            and bills.exists()
            and not bills.exclude(state__in=("PENDING", "FAILED_RETRYABLE")).exists()
        )

    settle(bills_held, timeout=TIMEOUT)
    expected = billable_entries(billing, refused_workspaces)
    assert len(expected) > 50
    assert not posted_bills()
    # NetSuite holds the bills: nothing is marked billed in Kantata, the write-backs wait.
    assert billed_marks() == []
    assert not Delivery.objects.filter(object="external_references").exists()
    held = HeldDelivery.objects.filter(run__flow_version__flow=billing)
    assert held.count() == len(expected) and not held.filter(released_at__isnull=False).exists()
    assert {h.key for h in held} == {f"tb-billed:{entry_id}" for entry_id in expected}

    window.ends_at = timezone.now()  # the window closes: the bills drain, then their entries are marked
    window.save()
    settle(all_ended(billing), timeout=TIMEOUT)
    marks = check_marked_once(billing, refused_workspaces)
    writebacks = Delivery.objects.filter(object="external_references")
    assert writebacks.count() == len(expected) and not writebacks.exclude(state="SUCCEEDED").exists()
    for delivery in writebacks.select_related("connection"):  # each written after its own bill succeeded
        bill = Delivery.objects.get(idempotency_key=delivery.payload["service_model_ref"].rpartition("#")[0])
        assert bill.state == "SUCCEEDED" and bill.succeeded_at <= delivery.created_at
        assert delivery.connection.name == "kantata"

    # The entries of the archived and the finished workspace: refused with the reason, never
    # billed nor marked.
    workers, projects = links("worker"), links("project")
    for workspace, reason in ((archived, "project is archived in Kantata"), (closed, "project is closed in Kantata")):
        on_it = {  # every entry of it that reaches the policy (its consultant and project are linked)
            e
            for e, entry in polled_entries(billing).items()
            if str(entry["workspace_id"]) == workspace and rejected_reason(entry, workers, projects) != "crosswalk"
        }
        refused = RunException.objects.filter(flow=billing, message__contains=reason)
        assert on_it and {str(e.original_input["id"]) for e in refused} == on_it, reason
        assert all(e.item.startswith("record:") and e.step_id == "policy" for e in refused)
        assert not on_it & {str(m["subject_id"]) for m in marks}

    # The flow runs twice: a second poll finds nothing, a replay of every page marks nothing again.
    assert poll_all(billing) == 0
    deliveries = Delivery.objects.count()
    replay_events(Event.objects.filter(source=f"poll:{billing.key}").order_by("id"), personas["operator"],
                  flow=billing)  # fmt: skip
    settle(all_ended(billing), timeout=TIMEOUT)
    assert an_hour_later() == 0
    assert Delivery.objects.count() == deliveries
    assert billed_marks() == marks
    check_marked_once(billing, refused_workspaces)
