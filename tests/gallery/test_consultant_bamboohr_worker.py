"""Consultant master sync from BambooHR, end to end through a real worker against the sandboxes:
the template installed from the gallery polls BambooHR; the first poll finds every consultant
as the NetSuite employee (`W-<employeeNumber>`) and the Kantata user the firm already has, then
a new hire, a changed title, a leaver and an effective-dated cost rate made in BambooHR land
field by field in NetSuite and Kantata, linked in the crosswalk; a poll with nothing new writes
nothing."""

from integrations.connections.demo import demo_values
from integrations.connections.models import Connection
from integrations.connections.services import create_connection
from integrations.crosswalk.models import CrosswalkLink
from integrations.deliveries.models import Delivery
from integrations.flows.choices import FlowStatus
from integrations.flows.models import Flow
from integrations.flows.services import publish, set_status
from integrations.gallery.install import install
from integrations.runs.models import Run, RunException
from integrations.sandboxes.admin_api import reset_vendor
from integrations.sandboxes.models import SandboxRecord, SandboxRequest
from integrations.triggers.polls import poll
from tests.gallery.conftest import connector, settle
from tests.gallery.test_consultant_psa_worker import membership
from tests.reliability.harness import WORKER_TEST_MARKS

pytestmark = WORKER_TEST_MARKS
ACTOR = "system:test"
NEW_HIRE = {"firstName": "Ines", "lastName": "Duarte", "employeeNumber": "29901",
            "workEmail": "Ines.Duarte@firm.example", "jobTitle": "Senior Consultant", "location": "Berlin",
            "hireDate": "2026-04-01", "status": "Active"}  # fmt: skip


def installed() -> Flow:
    """The BambooHR variant installed from the gallery (the demo does not install it) and switched on."""
    if not Connection.objects.filter(name="bamboohr").exists():
        create_connection(ACTOR, name="bamboohr", kind="bamboohr", **demo_values("bamboohr"))
    reset_vendor("bamboohr", 300)  # the same firm as the other sandboxes hold
    flow = install(ACTOR, "consultant-master-sync-bamboohr")
    publish(flow, ACTOR, notes="test")
    flow.refresh_from_db()
    if flow.status != FlowStatus.ACTIVE:
        set_status(flow, ACTOR, FlowStatus.ACTIVE)
    return flow


def polled(flow: Flow, expected: int) -> list[Run]:
    before = set(Run.objects.filter(flow_version__flow=flow).values_list("pk", flat=True))
    assert poll(flow.pk) == expected
    runs = Run.objects.filter(flow_version__flow=flow).exclude(pk__in=before)
    settle(lambda: not runs.exclude(status__in=("succeeded", "failed")).exists(), timeout=300)
    assert set(runs.values_list("status", flat=True)) == {"succeeded"}, list(runs.values_list("pk", "error"))
    assert not RunException.objects.filter(flow=flow).exists()
    return list(runs)


def ns_employee(netsuite, number: str) -> tuple[str, dict]:
    found = netsuite.find_by_external_ref("employee", "externalId", f"W-{number}")
    assert found is not None, number
    return found.remote_id, netsuite.read("employee", found.remote_id)


def kantata_user(kantata, email: str) -> tuple[str, dict, dict]:
    found = kantata.find_by_external_ref("users", "email_address", email.lower())
    assert found is not None, email
    user = kantata.read("users", found.remote_id)
    return found.remote_id, user, membership(kantata, user)


def same_identity(bamboo_id: str, netsuite_id: str, kantata_id: str) -> None:
    """The ids NetSuite and Kantata returned are linked to the BambooHR employee's identity."""
    source = CrosswalkLink.objects.get(object="worker", system="bamboohr", external_id=bamboo_id)
    for system, remote in (("netsuite", netsuite_id), ("kantata", kantata_id)):
        link = CrosswalkLink.objects.get(object="worker", system=system, external_id=remote)
        assert (link.canonical_id, link.source) == (source.canonical_id, "delivery"), (system, remote)


def test_bamboohr_changes_reach_netsuite_and_kantata_once(sandboxes, workers):
    sandboxes()
    flow = installed()
    bamboo, netsuite, kantata = connector("bamboohr"), connector("netsuite"), connector("kantata")
    employees = {r.record_id: r.data for r in SandboxRecord.objects.filter(vendor="bamboohr", object_type="employee")}
    ns_count = SandboxRecord.objects.filter(vendor="netsuite", object_type="employee").count()
    ns_before = {d["externalId"]: rid for rid, d in SandboxRecord.objects.filter(
        vendor="netsuite", object_type="employee").values_list("record_id", "data")}  # fmt: skip
    kantata_users = SandboxRecord.objects.filter(vendor="kantata", object_type="users").count()
    workers()

    # First poll: every consultant is the NetSuite employee and Kantata user the firm already has.
    polled(flow, len(employees))
    assert SandboxRecord.objects.filter(vendor="netsuite", object_type="employee").count() == ns_count
    assert SandboxRecord.objects.filter(vendor="kantata", object_type="users").count() == kantata_users
    for bamboo_id, data in employees.items():
        ns_id, employee = ns_employee(netsuite, data["employeeNumber"])
        assert ns_before[f"W-{data['employeeNumber']}"] == ns_id, data  # the firm's own record, not a new one
        assert (employee["firstName"], employee["lastName"], employee["email"]) == (
            data["firstName"], data["lastName"], data["workEmail"].lower())  # fmt: skip
        assert employee["isJobResource"] is (data["status"] == "Active"), data
        if data["status"] == "Active":  # Kantata never had a leaver: not invited
            same_identity(bamboo_id, ns_id, kantata_user(kantata, data["workEmail"])[0])

    # Changes made in BambooHR: a new hire, a promotion, a leaver, a new hourly cost rate.
    active = sorted((rid for rid, d in employees.items() if d["status"] == "Active"), key=int)
    promoted, leaver, repriced = active[1], active[2], active[3]
    hire_id = bamboo.create("employees", NEW_HIRE).remote_id
    hire_rate = {"startDate": "2026-04-01", "rate": "88.00 EUR", "type": "Hourly", "paidPer": "Hour"}
    bamboo.request("POST", f"api/v1/employees/{hire_id}/tables/compensation", json=hire_rate)
    bamboo.update("employees", promoted, {"jobTitle": "Principal"})
    bamboo.update("employees", leaver, {"status": "Inactive", "terminationDate": "2026-03-31"})
    new_rate = {
        "startDate": "2026-07-01",
        "rate": "152.50 USD",
        "type": "Hourly",
        "paidPer": "Hour",
        "reason": "Promotion",
    }
    bamboo.request("POST", f"api/v1/employees/{repriced}/tables/compensation", json=new_rate)

    runs = polled(flow, 4)
    assert sorted(r.record["id"] for r in runs) == sorted([hire_id, promoted, leaver, repriced])
    assert {r.record["id"]: r.record["compensation"]["startDate"] for r in runs}[repriced] == "2026-07-01"

    # the new hire: a new NetSuite employee carrying the canonical id, invited to Kantata
    ns_id, employee = ns_employee(netsuite, "29901")
    assert {k: employee[k] for k in ("firstName", "lastName", "email", "title", "entityId", "hireDate",
                                     "isJobResource", "laborCost")} == {
        "firstName": "Ines", "lastName": "Duarte", "email": "ines.duarte@firm.example", "title": "Senior Consultant",
        "entityId": "29901", "hireDate": "2026-04-01", "isJobResource": True, "laborCost": 88.0}  # fmt: skip
    assert employee["subsidiary"]["id"] == "2"  # Berlin books in the EMEA subsidiary
    kantata_id, user, member = kantata_user(kantata, NEW_HIRE["workEmail"])
    (invitation,) = kantata.unwrap(kantata.request("GET", "api/v1/account_invitations.json").json())
    assert (invitation["invitee_id"], invitation["email_address"], invitation["full_name"], invitation["headline"]) == (
        kantata_id, "ines.duarte@firm.example", "Ines Duarte", "Senior Consultant")  # fmt: skip
    assert (member["cost_rate_in_cents"], member["disabled_at"]) == (8800, None)
    same_identity(hire_id, ns_id, kantata_id)

    # the promotion: the title in NetSuite, the headline in Kantata
    _, employee = ns_employee(netsuite, employees[promoted]["employeeNumber"])
    _, user, member = kantata_user(kantata, employees[promoted]["workEmail"])
    assert (employee["title"], user["headline"], employee["isJobResource"], member["disabled_at"]) == (
        "Principal", "Principal", True, None)  # fmt: skip

    # the leaver: no longer a resource in NetSuite, the Kantata membership disabled
    _, employee = ns_employee(netsuite, employees[leaver]["employeeNumber"])
    _, user, member = kantata_user(kantata, employees[leaver]["workEmail"])
    assert employee["isJobResource"] is False and member["disabled_at"] is not None

    # the new rate: NetSuite's labor cost and the Kantata membership's cost rate, once for its date
    _, employee = ns_employee(netsuite, employees[repriced]["employeeNumber"])
    _, user, member = kantata_user(kantata, employees[repriced]["workEmail"])
    assert (employee["laborCost"], member["cost_rate_in_cents"]) == (152.5, 15250)
    keys = Delivery.objects.filter(run__in=runs, connection__name="netsuite").values_list("idempotency_key", flat=True)
    assert any(k.endswith(":2026-07-01") and f"W-{employees[repriced]['employeeNumber']}:" in k for k in keys)

    # Nothing changed since: the next poll stores nothing and nothing more is written anywhere.
    writes = Delivery.objects.count()
    last = SandboxRequest.objects.order_by("-id").values_list("id", flat=True)[0]
    assert poll(flow.pk) == 0
    settle(lambda: not Run.objects.filter(flow_version__flow=flow).exclude(
        status__in=("succeeded", "failed")).exists(), timeout=60)  # fmt: skip
    assert Delivery.objects.count() == writes
    sent = SandboxRequest.objects.filter(id__gt=last, vendor__in=("netsuite", "kantata")).exclude(method="GET")
    assert not sent.exists(), list(sent.values_list("vendor", "method", "path"))
