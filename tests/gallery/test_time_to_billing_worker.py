"""Time to billing end to end through real workers against the sandboxes: approved Kantata
time polled → policy checks → batched per project, consultant, month and billable flag across
the pages → NetSuite time bills, field by field, exactly once and exactly as many as the
groups make (ceil(entries / 500) per group) — when the flow runs twice, when a worker is
killed midway, and when NetSuite is in a maintenance window for part of the run (the
unbilled-hours tile shows the held hours meanwhile, and 0 after the drain). A rejected entry
is an exception with its reason. Groups still open when the pages are done flush at their
max wait: the tests move the clock past it ("an hour later").

CI runs a 300-entry firm (two pages); SWITCHBOARD_FULL_FAULT_TESTS=1 runs 10,000 entries."""

import io
import math
import os
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.connections.models import Connection, MaintenanceWindow
from integrations.crosswalk import demo as crosswalk_demo
from integrations.deliveries.models import Delivery
from integrations.events.models import Event
from integrations.flows.models import Flow
from integrations.gallery.flows.time_to_billing import MAX_WAIT_SECONDS
from integrations.runs.batch import accumulate
from integrations.runs.models import BatchGroup, Run, RunChunk, RunException
from integrations.sandboxes.models import SandboxRecord
from integrations.triggers.manual import replay_events
from integrations.triggers.polls import poll
from studio.ui.dashboards import queries as dashboard
from tests.gallery.billing import expected_groups, posted_bills, posted_groups
from tests.gallery.conftest import settle
from tests.reliability.harness import WORKER_TEST_MARKS

pytestmark = WORKER_TEST_MARKS
FULL = os.environ.get("SWITCHBOARD_FULL_FAULT_TESTS") == "1"
ENTRIES = 10_000 if FULL else 300
TIMEOUT = 3600 if FULL else 300


def poll_all(flow) -> int:
    """Poll until the source has nothing new; how many records the pages stored carry."""
    pages = 0
    while found := poll(flow.pk):
        pages += found
    events = Event.objects.filter(source=f"poll:{flow.key}").order_by("-id")[:pages] if pages else []
    return sum(len(e.payload["records"]) for e in events)


def batch_runs(flow):
    return Run.objects.filter(flow_version__flow=flow)


def all_ended(flow):
    return lambda: not batch_runs(flow).exclude(status__in=("succeeded", "failed")).exists()


def pages_done(flow):
    """Every page run has filed its entries (it may still wait for the bills of full groups)."""
    return lambda: not batch_runs(flow).exclude(status__in=("succeeded", "failed", "waiting-delivery")).exists()


def an_hour_later() -> int:
    """The groups still open flush at their max wait (the periodic task's passes, with the
    clock moved on); how many groups were flushed."""
    flushed, later = 0, timezone.now() + timedelta(seconds=MAX_WAIT_SECONDS + 1)
    while found := accumulate.flush_due(now=later):
        flushed += found
    return flushed


def one_too_long_entry() -> str:
    """Make one approved entry 15 hours long: it must be refused with its reason."""
    row = SandboxRecord.objects.filter(vendor="kantata", object_type="time_entries", data__approved=True).order_by(
        "id"
    )[7]
    row.data = {**row.data, "time_in_minutes": 900}
    row.save(update_fields=["data"])
    return str(row.data["id"])


def check_posted_once(flow):
    """Every group billed once, in exactly ceil(entries / 500) bills, hours to the minute."""
    expected, rejected = expected_groups(flow.key)
    posted = posted_bills()
    ids = [b["externalId"] for b in posted]
    assert len(ids) == len(set(ids)), "a batch was posted twice"
    assert len(posted) == sum(g["bills"] for g in expected.values())
    assert len(posted) == sum(math.ceil(g["entries"] / 500) for g in expected.values())
    got = posted_groups(posted)
    assert sorted(got) == sorted(expected), "the groups billed are not the ones the entries make"
    for key, group in expected.items():  # hours are a duration in NetSuite: to the minute per bill
        assert got[key]["entries"] == group["entries"] and got[key]["bills"] == group["bills"], key
        assert abs(got[key]["hours"] - group["hours"]) < 0.02 * group["bills"], (key, got[key], group)
    for bill in posted:
        project, worker = bill["externalId"].split(":")[1:3]
        assert bill["employee"] == {"externalId": worker} and bill["customer"] == {"externalId": project}
        assert bill["item"]["id"] == "210"
    return expected, rejected


@pytest.fixture
def billing(sandboxes, workers):
    sandboxes(ENTRIES)
    crosswalk_demo.seed(io.StringIO())  # consultants (every size) and this firm's projects
    return Flow.objects.get(key="time-to-billing")


def test_approved_time_is_billed_in_batches_exactly_once_and_a_rejected_entry_says_why(billing, workers, personas):
    too_long = one_too_long_entry()
    workers()
    assert poll_all(billing) == ENTRIES
    settle(pages_done(billing), timeout=TIMEOUT)
    an_hour_later()
    settle(all_ended(billing), timeout=TIMEOUT)
    assert not BatchGroup.objects.filter(status="open").exists()
    expected, rejected = check_posted_once(billing)
    assert len(expected) > 10 and rejected >= 1
    exceptions = RunException.objects.filter(flow=billing)
    assert exceptions.count() == rejected
    refused = next(e for e in exceptions if str(e.original_input.get("id")) == too_long)
    assert "more than 12 hours on one day" in refused.message and refused.item.startswith("record:")
    unapproved = exceptions.filter(message__contains="time entry is not approved yet").count()
    assert unapproved == sum(1 for e in exceptions if not e.original_input.get("approved"))

    # The flow runs twice: a second poll finds nothing new, a replay of every page posts nothing.
    assert poll_all(billing) == 0
    deliveries = Delivery.objects.count()
    pages = Event.objects.filter(source=f"poll:{billing.key}").order_by("id")
    replay_events(pages, personas["operator"], flow=billing)
    settle(all_ended(billing), timeout=TIMEOUT)
    assert an_hour_later() == 0  # the replayed entries were filed already: no group opened again
    assert Delivery.objects.count() == deliveries
    check_posted_once(billing)


def test_a_worker_killed_midway_and_a_maintenance_window_cost_no_duplicate(billing, workers):
    netsuite = Connection.objects.get(name="netsuite")
    now = timezone.now()
    window = MaintenanceWindow.objects.create(
        connection=netsuite, kind="one_off", starts_at=now, ends_at=now + timedelta(hours=1), note="month end"
    )
    first = workers()
    assert poll_all(billing) == ENTRIES

    def midway():  # a chunk holds its lease or has committed (the bills come only at the flush)
        return RunChunk.objects.filter(run__flow_version__flow=billing, status__in=("running", "done")).exists()

    settle(midway, timeout=TIMEOUT)
    first.kill()  # SIGKILL, whole process group
    workers()

    def all_held():
        return (
            not batch_runs(billing).exclude(status__in=("succeeded", "failed", "waiting-delivery")).exists()
            and Delivery.objects.exists()
            and not Delivery.objects.exclude(state__in=("PENDING", "FAILED_RETRYABLE")).exists()
        )

    settle(pages_done(billing), timeout=TIMEOUT)
    an_hour_later()
    settle(all_held, timeout=TIMEOUT)
    assert not posted_bills()  # nothing reached NetSuite inside the window
    expected, _ = expected_groups(billing.key)
    held = sum(g["hours"] for g in expected.values())
    tile = dashboard.unbilled_hours(dashboard.live_definitions())
    assert abs(tile.hours - held) < 0.5, (tile.hours, held)

    window.ends_at = timezone.now()  # the window closes: the held bills drain
    window.save()
    settle(all_ended(billing), timeout=TIMEOUT)
    check_posted_once(billing)
    assert dashboard.unbilled_hours(dashboard.live_definitions()).hours == 0
