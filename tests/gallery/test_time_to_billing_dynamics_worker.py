"""Time to billing with Dynamics 365 end to end through a real worker: approved Kantata time
polled → policy checks → batched per project, consultant, month and billable flag → one
Project Operations time entry per batch (keyed by the batch's identity in sb_externalref),
field by field and bound to its project, each billed entry marked in Kantata — and a replay of
every page posts nothing again."""

import io
from collections import defaultdict

import pytest

from integrations.connections.demo import demo_values
from integrations.connections.services import create_connection
from integrations.crosswalk import demo as crosswalk_demo
from integrations.deliveries.models import Delivery
from integrations.events.models import Event
from integrations.flows.models import Flow
from integrations.flows.services import set_status
from integrations.gallery.flows.time_to_billing_dynamics import WORK
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.admin_api import reset_vendor
from integrations.sandboxes.models import SandboxRecord
from integrations.triggers.manual import replay_events
from tests.gallery.billing import expected_groups
from tests.gallery.conftest import settle
from tests.gallery.test_time_to_billing_worker import all_ended, an_hour_later, pages_done, poll_all
from tests.reliability.harness import WORKER_TEST_MARKS

pytestmark = WORKER_TEST_MARKS
KEY = "time-to-billing-dynamics"
ENTRIES = 300
TIMEOUT = 300


@pytest.fixture
def billing(sandboxes, workers):
    """The firm books its time in Dynamics: this variant on, the NetSuite one paused."""
    create_connection("system:test", name="dynamics", kind="dynamics", **demo_values("dynamics"))
    sandboxes(ENTRIES)
    reset_vendor("dynamics", ENTRIES)  # the same firm's projects, sb_externalref = the project id
    crosswalk_demo.seed(io.StringIO())
    set_status(Flow.objects.get(key="time-to-billing"), "system:test", "paused")
    flow = Flow.objects.get(key=KEY)
    set_status(flow, "system:test", "active")
    return flow


def posted_entries() -> list[dict]:
    rows = SandboxRecord.objects.filter(vendor="dynamics", object_type="msdyn_timeentries")
    return [row.data for row in rows.filter(external_id__startswith="tb:")]


def posted_groups(entries: list[dict]) -> dict[tuple, dict]:
    """The posted time entries summed per group: the group from sb_externalref
    (tb:<project>:<worker>:<month>:<first>-<last>:<count>) and the description's billable flag."""
    groups: dict[tuple, dict] = defaultdict(lambda: {"entries": 0, "hours": 0.0, "bills": 0})
    for entry in entries:
        _, project, worker, month, _, count = entry["sb_externalref"].split(":")
        flag = "n" if ", non-billable, " in entry["msdyn_description"] else "b"
        group = groups[(project, worker, month, flag)]
        group["entries"] += int(count)
        group["hours"] += entry["msdyn_duration"] / 60
        group["bills"] += 1
    return dict(groups)


def test_approved_time_is_posted_to_dynamics_once_per_batch(billing, workers, personas):
    workers()
    assert poll_all(billing) == ENTRIES
    settle(pages_done(billing), timeout=TIMEOUT)
    an_hour_later()
    settle(all_ended(billing), timeout=TIMEOUT)

    expected, _rejected = expected_groups(KEY)  # the policy steps are time_to_billing's, tested there
    assert len(expected) > 10
    posted = posted_entries()
    refs = [e["sb_externalref"] for e in posted]
    assert len(refs) == len(set(refs)) == sum(g["bills"] for g in expected.values())
    got = posted_groups(posted)
    assert sorted(got) == sorted(expected), "the groups posted are not the ones the entries make"
    for key, group in expected.items():  # a duration in minutes: to the minute per entry
        assert (got[key]["entries"], got[key]["bills"]) == (group["entries"], group["bills"]), key
        assert abs(got[key]["hours"] - group["hours"]) < 0.02 * group["bills"], (key, got[key], group)
    for entry in posted:
        project, worker, month = entry["sb_externalref"].split(":")[1:4]
        bound = store.get_by_external_id("dynamics", "msdyn_projects", project)
        assert entry["_msdyn_project_value"] == bound.record_id
        assert entry["msdyn_type"] == WORK and entry["msdyn_date"].startswith(month)
        assert entry["msdyn_description"].endswith(f"consultant {worker}")
    billed = SandboxRecord.objects.filter(
        vendor="kantata", object_type="external_references", data__external_message__startswith="billed on Dynamics"
    )
    assert billed.count() == sum(g["entries"] for g in expected.values())

    # A replay of every page posts nothing: each entry was filed in its batch once.
    deliveries = Delivery.objects.count()
    replay_events(Event.objects.filter(source=f"poll:{KEY}").order_by("id"), personas["operator"], flow=billing)
    settle(all_ended(billing), timeout=TIMEOUT)
    assert an_hour_later() == 0
    assert Delivery.objects.count() == deliveries
    assert sorted(e["sb_externalref"] for e in posted_entries()) == sorted(refs)
