"""The firm's consultants as BambooHR employees: employeeNumber = the firm's HR employee number
(the number Workday shows as Employee_ID, and the NetSuite employees carry as externalId
`W-<number>`), supervisorEId = the manager's BambooHR id; terminated people are Inactive.
Each has one compensation row: the hourly cost rate in force since the hire date."""

from __future__ import annotations

from django.conf import settings

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.bamboohr import VENDOR
from integrations.sandboxes.credentials import sandbox_secret
from integrations.sandboxes.seed.firm import generate_firm

STAMP = "2025-01-06T09:00:00+00:00"
DIVISIONS = {"NA": "Americas", "EMEA": "EMEA", "APAC": "Asia Pacific"}


def bamboo_id(firm_employee_id: str) -> str:
    return str(100 + int(firm_employee_id.split("-")[1]))


def employee_number(consultant: dict) -> str:
    return consultant["worker_id"].split("-")[1]


def compensation(firm):
    """One hourly row per consultant (BambooHR rows carry the rate as "<amount> <currency>")."""
    for n, e in enumerate(firm.consultants, start=1):
        row = {"employeeId": bamboo_id(e["id"]), "startDate": e["hire_date"], "endDate": None,
               "rate": f"{e['cost_rate']:.2f} USD", "type": "Hourly", "exempt": "Non-exempt", "reason": "New Hire",
               "comment": "", "paidPer": "Hour", "paySchedule": None, "overtimeRate": None}  # fmt: skip
        yield str(n), row, None


def employees(firm):
    for e in firm.consultants:
        rid = bamboo_id(e["id"])
        yield (
            rid,
            {
                "employeeNumber": employee_number(e),
                "firstName": e["first_name"],
                "lastName": e["last_name"],
                "preferredName": e["first_name"],
                "middleName": None,
                "workEmail": e["email"],
                "homeEmail": None,
                "jobTitle": e["title"],
                "department": e["department"],
                "division": DIVISIONS[e["region"]],
                "location": e["location"],
                "country": e["country"],
                "city": e["location"],
                "hireDate": e["hire_date"],
                "terminationDate": None,
                "status": "Active" if e["status"] == "Active" else "Inactive",
                "supervisorEId": bamboo_id(e["manager_id"]) if e["manager_id"] else None,
                "employmentHistoryStatus": "Full-Time",
                "workPhone": None,
                "mobilePhone": None,
                "created": STAMP,
                "lastChanged": STAMP,
            },
            e["email"].lower(),
        )


def demo_private_key() -> str:
    return sandbox_secret(VENDOR, "webhook-private-key", 64)


def demo_subscription() -> None:
    """The subscription an admin would create for Switchboard: employee changes go to the
    demo connection's intake, signed with a key the demo connection holds."""
    target = f"{settings.SWITCHBOARD_SANDBOX_ORIGIN.rstrip('/')}/hooks/{VENDOR}/"
    data = {
        "id": "1",
        "name": "Switchboard",
        "created": "2025-01-06 09:00:00",
        "lastSent": None,
        "monitorFields": [
            "firstName",
            "lastName",
            "workEmail",
            "jobTitle",
            "department",
            "division",
            "location",
            "status",
            "supervisorEId",
        ],
        "postFields": {},
        "url": target,
        "format": "json",
        "privateKey": demo_private_key(),
        "includeCompanyDomain": False,
        "events": ["employee.created", "employee.updated"],
    }
    store.create(VENDOR, "webhook", "1", data)


def seed(size="test", seed_value: int = 42) -> dict:
    demo_subscription()
    firm = generate_firm(seed_value, size)
    return {
        "employee": store.bulk_load(VENDOR, "employee", employees(firm)),
        "compensation": store.bulk_load(VENDOR, "compensation", compensation(firm)),
        "webhook": 1,
    }


def demo_connection(base_url: str) -> dict:
    return {"config": {"company_domain": "switchboard"}, "credentials": {"webhook_private_key": demo_private_key()}}
