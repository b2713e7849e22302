"""The firm's consultants as BambooHR employees: employeeNumber = the firm's employee id,
supervisorEId = the manager's BambooHR id; terminated people are Inactive."""

from __future__ import annotations

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.bamboohr import VENDOR
from integrations.sandboxes.seed.firm import generate_firm

STAMP = "2025-01-06T09:00:00+00:00"
DIVISIONS = {"NA": "Americas", "EMEA": "EMEA", "APAC": "Asia Pacific"}


def bamboo_id(firm_employee_id: str) -> str:
    return str(100 + int(firm_employee_id.split("-")[1]))


def employees(firm):
    for e in firm.consultants:
        rid = bamboo_id(e["id"])
        yield (
            rid,
            {
                "employeeNumber": e["id"],
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


def seed(size="test", seed_value: int = 42) -> dict:
    return {"employee": store.bulk_load(VENDOR, "employee", employees(generate_firm(seed_value, size)))}
