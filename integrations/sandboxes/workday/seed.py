"""The firm's consultants as Workday workers: a 32-hex WID each, `workerId` = the Employee
ID number, references as {id, descriptor, href}; plus the RaaS worker-sync rows, and what a
worker time block refers to: the tenant's time entry codes and the firm's projects."""

from __future__ import annotations

import uuid

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.seed.firm import generate_firm
from integrations.sandboxes.workday import VENDOR

_NS = uuid.UUID("3aa5550b-7fe3-48b9-8d7b-5741afc65534")
STAMP = "2025-01-06T09:00:00.000Z"


def wid(kind: str, key: str) -> str:
    return uuid.uuid5(_NS, f"{kind}:{key}").hex


def ref(kind: str, key: str, descriptor: str) -> dict:
    return {"id": wid(kind, key), "descriptor": descriptor}


def worker_row(e: dict, managers: dict[str, dict]) -> dict:
    name = f"{e['first_name']} {e['last_name']}"
    manager = managers.get(e["manager_id"] or "")
    org = (
        f"Professional Services ({manager['first_name']} {manager['last_name']})"
        if manager
        else "Professional Services"
    )
    return {
        "id": wid("worker", e["id"]),
        "descriptor": name,
        "workerId": e["worker_id"].split("-")[1],
        "workerType": ref("workerType", "employee", "Employee"),
        "businessTitle": e["title"],
        "isManager": e["title"] in ("Manager", "Senior Manager", "Principal"),
        "primaryWorkEmail": e["email"],
        "primaryWorkPhone": None,
        "location": ref("location", e["location"], e["location"]),
        "primarySupervisoryOrganization": ref("org", e["manager_id"] or "root", org),
        "primaryJob": {
            **ref("job", e["id"], f"{e['title']} - {name}"),
            "jobProfile": ref("jobProfile", e["title"], e["title"]),
        },
        "hireDate": e["hire_date"],
        "terminationDate": None if e["status"] == "Active" else "2025-03-31",
        "lastUpdated": STAMP,
        "costCenter": f"CC-410 {e['department']}",
        "managerName": f"{manager['first_name']} {manager['last_name']}" if manager else None,
    }


# Time entry codes a tenant might configure for a consulting firm; a block names one by WID.
TIME_ENTRY_CODES = {"billable": "Billable Hours", "nonbillable": "Non-Billable Hours", "regular": "Regular Hours"}


def time_entry_code_id(key: str) -> str:
    """The WID of one of TIME_ENTRY_CODES (what a flow puts in `timeEntryCode.id`)."""
    return wid("timeEntryCode", key)


def project_id(project_number: str) -> str:
    """The WID of the firm's project `PRJ-…` as a Workday project."""
    return wid("project", project_number)


def seed(size="test", seed_value: int = 42) -> dict:
    firm = generate_firm(seed_value, size)
    managers = {e["id"]: e for e in firm.consultants}
    rows = ((wid("worker", e["id"]), worker_row(e, managers), e["worker_id"].split("-")[1]) for e in firm.consultants)
    codes = (
        (time_entry_code_id(k), {"id": time_entry_code_id(k), "descriptor": name, "code": k}, None)
        for k, name in TIME_ENTRY_CODES.items()
    )
    projects = (
        (project_id(p["id"]), {"id": project_id(p["id"]), "descriptor": p["name"], "projectId": p["id"]}, None)
        for p in firm.projects
    )
    return {
        "workers": store.bulk_load(VENDOR, "workers", rows),
        "timeEntryCodes": store.bulk_load(VENDOR, "timeEntryCodes", codes),
        "projects": store.bulk_load(VENDOR, "projects", projects),
    }


def demo_connection(base_url: str) -> dict:
    from integrations.sandboxes.workday import REPORT_NAME, REPORT_OWNER, TENANT
    from integrations.sandboxes.workday.auth import isu_username

    return {
        "config": {
            "tenant": TENANT,
            "auth_mode": "oauth",
            "username": isu_username(),
            "report_owner": REPORT_OWNER,
            "report_name": REPORT_NAME,
        }
    }
