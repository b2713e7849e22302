"""Consultant master sync, the PSA side, end to end through a real worker against the
sandboxes: every worker in Workday's report is a Kantata user afterwards (an existing member
is found by address and its profile follows Workday, a new hire is invited to the account),
the user's id is linked to the worker in the crosswalk, a terminated worker's account
membership is disabled, and replaying the same report rows writes nothing new anywhere. A
worker whose work e-mail changes in Workday stays the Kantata user the crosswalk links: that
user gets the new address, no second user is invited."""

from datetime import datetime, timedelta

import pytest

from integrations.crosswalk.models import CrosswalkLink
from integrations.deliveries.models import Delivery
from integrations.flows import engine_api
from integrations.gallery.catalog import BY_KEY
from integrations.runs.models import Run, RunException
from integrations.runs.services import create_run
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.models import SandboxRecord, SandboxRequest
from integrations.triggers.polls import poll
from tests.gallery.conftest import connector, settle
from tests.gallery.test_master_data_and_money_worker import run_flow
from tests.reliability.harness import WORKER_TEST_MARKS

pytestmark = WORKER_TEST_MARKS
NEW_HIRE = {"workerId": "29901", "descriptor": "Ines Carvalho Duarte", "primaryWorkEmail": "Ines.Duarte@firm.example",
            "businessTitle": "Senior Consultant", "lastUpdated": "2026-04-01T09:00:00"}  # fmt: skip


def hire(template: SandboxRecord) -> dict:
    """A worker Kantata has never seen, added to Workday (a copy of a seeded worker's shape)."""
    data = {**template.data, **NEW_HIRE, "id": "wd-new-hire-29901", "terminationDate": None}
    store.create("workday", "workers", data["id"], data)
    return data


def membership(kantata, user: dict) -> dict:
    """The user's account membership, active or not (is_active=false lifts the default filter)."""
    body = kantata.request("GET", "api/v1/account_memberships.json",
                           params={"by_user_id": user["id"], "is_active": "false"}).json()  # fmt: skip
    (row,) = kantata.unwrap(body)
    assert row["id"] == user["account_membership_id"]
    return row


def test_workers_become_kantata_users_linked_in_the_crosswalk_and_a_leaver_is_disabled(sandboxes, workers):
    sandboxes()
    seeded = SandboxRecord.objects.filter(vendor="workday", object_type="workers").order_by("record_id")
    leaver = seeded[3]
    leaver.data = {**leaver.data, "terminationDate": "2026-03-31", "lastUpdated": "2026-03-31T18:00:00"}
    leaver.save(update_fields=["data"])
    promoted = seeded[1]  # a change in Workday: the Kantata profile follows
    promoted.data = {**promoted.data, "businessTitle": "Principal", "lastUpdated": "2026-03-02T08:00:00"}
    promoted.save(update_fields=["data"])
    hire(seeded[0])
    known = {u.data["email_address"].lower(): u.record_id for u in SandboxRecord.objects.filter(
        vendor="kantata", object_type="users")}  # fmt: skip
    report = connector("workday").query("worker_report").records
    assert NEW_HIRE["workerId"] in {r["Employee_ID"] for r in report}
    workers()
    flow = run_flow("consultant-master-sync", len(report))
    assert not RunException.objects.filter(flow=flow).exists()
    assert set(Run.objects.filter(flow_version__flow=flow).values_list("status", flat=True)) == {"succeeded"}

    kantata = connector("kantata")
    for row in report:
        email = row["Email_-_Work"].lower()
        found = kantata.find_by_external_ref("users", "email_address", email)
        assert found is not None, row
        user = kantata.read("users", found.remote_id)
        assert user["email_address"].lower() == email
        assert user["full_name"] == row["Legal_Name"] and user["headline"] == row["Business_Title"], (user, row)
        # an existing member is the same user as before (found by address, not invited again)
        if row["Employee_ID"] != NEW_HIRE["workerId"]:
            assert found.remote_id == known[email], row
        # the terminated worker's membership is disabled; everyone else's stays active
        disabled_at = membership(kantata, user)["disabled_at"]
        assert (disabled_at is not None) is (row["Worker_Status"] == "Terminated"), (row, disabled_at)
        # the user's id is linked to the worker's canonical identity, as Workday's id is
        canonical = CrosswalkLink.objects.get(object="worker", system="workday", external_id=row["Employee_ID"])
        link = CrosswalkLink.objects.get(object="worker", system="kantata", external_id=found.remote_id)
        assert (link.canonical_id, link.source) == (canonical.canonical_id, "delivery"), row
    assert sum(1 for row in report if row["Worker_Status"] == "Terminated") == 1
    assert kantata.read("users", known[promoted.data["primaryWorkEmail"].lower()])["headline"] == "Principal"

    # the new hire was invited to the account: one pending invitation whose invitee is the user
    invitations = kantata.unwrap(kantata.request("GET", "api/v1/account_invitations.json").json())
    assert len(invitations) == 1
    (invitation,) = invitations
    new_user = kantata.find_by_external_ref("users", "email_address", NEW_HIRE["primaryWorkEmail"]).remote_id
    assert (invitation["invitee_id"], invitation["pending"]) == (new_user, True)
    assert (invitation["email_address"], invitation["full_name"], invitation["headline"]) == (
        "ines.duarte@firm.example", "Ines Carvalho Duarte", "Senior Consultant")  # fmt: skip
    assert invitation["permission"] == "collaborator"
    assert membership(kantata, kantata.read("users", new_user))["disabled_at"] is None

    # replaying the same report rows writes nothing new: same keys, no new writes to Kantata
    writes = Delivery.objects.filter(connection__name="kantata").count()
    assert writes == len(report)
    last_request = SandboxRequest.objects.filter(vendor="kantata").order_by("-id").values_list("id", flat=True)[0]
    users = SandboxRecord.objects.filter(vendor="kantata", object_type="users").count()
    first_pass = list(Run.objects.filter(flow_version__flow=flow))
    replays = [create_run(r.flow_version, trigger="replay", event=r.event, record=r.input) for r in first_pass]
    settle(lambda: not Run.objects.filter(pk__in=[r.pk for r in replays]).exclude(
        status__in=("succeeded", "failed")).exists(), timeout=300)  # fmt: skip
    assert set(Run.objects.filter(pk__in=[r.pk for r in replays]).values_list("status", flat=True)) == {"succeeded"}
    assert Delivery.objects.filter(connection__name="kantata").count() == writes
    assert SandboxRecord.objects.filter(vendor="kantata", object_type="users").count() == users
    assert len(kantata.unwrap(kantata.request("GET", "api/v1/account_invitations.json").json())) == 1
    sent = SandboxRequest.objects.filter(vendor="kantata", id__gt=last_request).exclude(method="GET")
    assert not sent.exists(), list(sent.values_list("method", "path"))


def test_a_changed_work_email_moves_with_the_linked_kantata_user_not_a_second_one(sandboxes, workers):
    sandboxes()
    report = connector("workday").query("worker_report").records
    workers()
    flow = run_flow("consultant-master-sync", len(report))
    kantata = connector("kantata")
    mover = next(w for w in SandboxRecord.objects.filter(vendor="workday", object_type="workers").order_by("record_id")
                 if not w.data.get("terminationDate"))  # fmt: skip
    old_address = mover.data["primaryWorkEmail"].lower()
    user_id = kantata.find_by_external_ref("users", "email_address", old_address).remote_id
    links = set(CrosswalkLink.objects.filter(object="worker").values_list("system", "external_id", "canonical_id"))
    assert ("kantata", user_id) in {(system, external) for system, external, _ in links}
    users = SandboxRecord.objects.filter(vendor="kantata", object_type="users").count()
    invitations = SandboxRecord.objects.filter(vendor="kantata", object_type="account_invitations").count()

    # Workday: a new work e-mail (and title), one change later than anything polled so far
    newest = max(datetime.fromisoformat(r["Last_Updated"]) for r in report)
    mover.data = {**mover.data, "primaryWorkEmail": "Renamed.Consultant@firm.example", "businessTitle": "Principal",
                  "lastUpdated": (newest + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")}  # fmt: skip
    mover.save(update_fields=["data"])
    before = set(Run.objects.filter(flow_version__flow=flow).values_list("pk", flat=True))
    run_flow("consultant-master-sync", 1)
    (run,) = Run.objects.filter(flow_version__flow=flow).exclude(pk__in=before)
    assert run.status == "succeeded", run.error
    assert not RunException.objects.filter(flow=flow).exists()

    # the same Kantata user, written by its id, now carries the new address and title
    (write,) = Delivery.objects.filter(run=run, connection__name="kantata")
    assert (write.action, write.external_id, write.state) == ("update", user_id, "SUCCEEDED")
    user = kantata.read("users", user_id)
    assert (user["email_address"], user["headline"]) == ("renamed.consultant@firm.example", "Principal")
    assert kantata.find_by_external_ref("users", "email_address", "renamed.consultant@firm.example").remote_id == (
        user_id
    )
    assert kantata.find_by_external_ref("users", "email_address", old_address) is None
    assert membership(kantata, user)["disabled_at"] is None
    # no second user, no invitation, and the crosswalk is as it was
    assert SandboxRecord.objects.filter(vendor="kantata", object_type="users").count() == users
    assert SandboxRecord.objects.filter(vendor="kantata", object_type="account_invitations").count() == invitations
    assert set(CrosswalkLink.objects.filter(object="worker").values_list("system", "external_id", "canonical_id")) == (
        links
    )
    # NetSuite's employee (by the worker id) has the new address too
    netsuite = connector("netsuite")
    employee = netsuite.find_by_external_ref("employee", "externalId", f"W-{mover.data['workerId']}")
    assert netsuite.read("employee", employee.remote_id)["email"] == "renamed.consultant@firm.example"

    # a re-poll finds nothing new and writes nothing
    writes = Delivery.objects.count()
    last_request = SandboxRequest.objects.filter(vendor="kantata").order_by("-id").values_list("id", flat=True)[0]
    assert poll(flow.pk) == 0
    assert Delivery.objects.count() == writes
    assert not SandboxRequest.objects.filter(vendor="kantata", id__gt=last_request).exclude(method="GET").exists()


@pytest.mark.parametrize(("rate", "cents"), [("152.5", 15250), ("99.99", 9999)])
def test_a_cost_rate_goes_to_the_kantata_membership_once_per_effective_date(rate, cents):
    """Test-run of the definition (nothing written): the PSA write carries the rate in cents,
    and its key the effective date, so a new effective date is a new write and a re-sent row
    the same one."""
    row = {"Employee_ID": "21001", "Legal_Name": "Priya Raman", "Email_-_Work": "Priya.Raman@firm.example",
           "Business_Title": "Consultant", "Location": "London", "Hire_Date": "2024-02-01",
           "Worker_Status": "Active", "Last_Updated": "2026-01-05T09:00:00", "Cost_Rate": rate,
           "Cost_Rate_Currency": "GBP", "Cost_Rate_Effective": "2026-02-01"}  # fmt: skip

    def psa_write(record, linked=None):
        """`linked`: the Kantata user the worker's identity (Workday id → canonical id) links to."""
        identity = {("workday", record["Employee_ID"]): "c-1"} if linked else {}
        effects = engine_api.dry_run_effects(crosswalk=lambda o, s, e: identity.get((s, e)),
                                             linked_id=lambda o, c, s: linked if c == "c-1" else None)  # fmt: skip
        outcome = engine_api.run(engine_api.compile_flow(BY_KEY["consultant-master-sync"].definition), record, effects)
        assert outcome.status == "completed", outcome
        (write,) = [d for d in effects.deliveries if d.connection == "kantata"]
        return write

    write = psa_write(row)
    assert (write.object, write.action, write.external_id_field, write.external_id) == (
        "users", "upsert", "email_address", "priya.raman@firm.example")  # fmt: skip
    assert write.payload == {"full_name": "Priya Raman", "email_address": "priya.raman@firm.example",
                             "headline": "Consultant", "cost_rate_in_cents": cents, "disabled": False}  # fmt: skip
    assert psa_write(row).key == write.key
    # a worker the crosswalk links to a Kantata user: that user is updated by its id, same payload and key
    linked = psa_write(row, linked="20301")
    assert (linked.object, linked.action, linked.external_id, linked.payload, linked.key) == (
        "users", "update", "20301", write.payload, write.key)  # fmt: skip
    later = psa_write({**row, "Cost_Rate_Effective": "2026-05-01"})
    assert later.key != write.key and later.payload == write.payload
    # a row without a title or a rate leaves the Kantata headline and rate alone (null: not sent)
    bare = {k: v for k, v in row.items() if k not in ("Business_Title", "Cost_Rate", "Cost_Rate_Effective")}
    assert psa_write(bare).payload == {"full_name": "Priya Raman", "email_address": "priya.raman@firm.example",
                                       "headline": None, "cost_rate_in_cents": None, "disabled": False}  # fmt: skip
