"""The firm as a NetSuite account sees it: customers (externalId = the firm's client id),
employees (externalId = the HR worker id), projects (job), approved time (timeBill) and
invoices. Internal ids are numbers, as NetSuite's are; subsidiaries follow the region."""

from __future__ import annotations

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.netsuite import VENDOR
from integrations.sandboxes.netsuite.records import ITEMS, SUBSIDIARIES, as_duration
from integrations.sandboxes.seed.firm import generate_firm

STAMP = "2025-01-06T09:00:00Z"
_SUBSIDIARY = {"NA": "1", "EMEA": "2", "APAC": "3"}


def _ref(record_id: str, name: str | None = None) -> dict:
    return {"id": record_id, "refName": name} if name else {"id": record_id}


def _ids(items: list[dict], start: int) -> dict[str, str]:
    return {item["id"]: str(start + n) for n, item in enumerate(items)}


def _stamped(data: dict) -> dict:
    return {**data, "dateCreated": STAMP, "lastModifiedDate": STAMP}


def customers(firm, ids):
    for c in firm.clients:
        sub = _SUBSIDIARY[c["region"]]
        yield (
            ids["customer"][c["id"]],
            _stamped(
                {
                    "id": ids["customer"][c["id"]],
                    "externalId": c["id"],
                    "entityId": c["id"],
                    "companyName": c["name"],
                    "email": c["billing_email"],
                    "subsidiary": _ref(sub, SUBSIDIARIES[sub]),
                    "currency": _ref("1", "USD"),
                }
            ),
            c["id"],
        )


def employees(firm, ids):
    for e in firm.consultants:
        sub = _SUBSIDIARY[e["region"]]
        yield (
            ids["employee"][e["id"]],
            _stamped(
                {
                    "id": ids["employee"][e["id"]],
                    "externalId": e["worker_id"],
                    "entityId": e["id"],
                    "firstName": e["first_name"],
                    "lastName": e["last_name"],
                    "email": e["email"],
                    "title": e["title"],
                    "subsidiary": _ref(sub, SUBSIDIARIES[sub]),
                    "hireDate": e["hire_date"],
                    "isJobResource": True,
                    "laborCost": e["cost_rate"],
                }
            ),
            e["worker_id"],
        )


def jobs(firm, ids):
    for p in firm.projects:
        yield (
            ids["job"][p["id"]],
            _stamped(
                {
                    "id": ids["job"][p["id"]],
                    "externalId": p["id"],
                    "entityId": p["id"],
                    "companyName": p["name"],
                    "parent": _ref(ids["customer"][p["client_id"]]),
                    "subsidiary": _ref(_SUBSIDIARY[p["region"]]),
                    "entityStatus": _ref("2", "In Progress"),
                    "startDate": p["start_date"],
                    "projectedEndDate": p["end_date"],
                    "projectManager": _ref(ids["employee"][p["manager_id"]]),
                    "allowTime": True,
                    "allowExpenses": True,
                    "jobBillingType": _ref(
                        "TM" if p["billing_type"] == "Time and Materials" else "FF", p["billing_type"]
                    ),
                }
            ),
            p["id"],
        )


def time_bills(firm, ids):
    for n, t in enumerate(firm.time_entries()):
        rid = str(50000 + n)
        yield (
            rid,
            _stamped(
                {
                    "id": rid,
                    "externalId": t["id"],
                    "employee": _ref(ids["employee"][t["consultant_id"]]),
                    "customer": _ref(ids["job"][t["project_id"]]),
                    "tranDate": t["date"],
                    "hours": as_duration(t["hours"]),
                    "isBillable": t["billable"],
                    "item": _ref("210", ITEMS["210"]),
                    "rate": t["rate"],
                    "memo": t["notes"],
                    "approvalStatus": _ref("2", "Approved") if t["approved"] else _ref("1", "Pending Approval"),
                }
            ),
            t["id"],
        )


def invoices(firm, ids):
    for n, i in enumerate(firm.invoices):
        rid = str(9000 + n)
        yield (
            rid,
            _stamped(
                {
                    "id": rid,
                    "externalId": i["id"],
                    "tranId": i["number"],
                    "entity": _ref(ids["customer"][i["client_id"]]),
                    "job": _ref(ids["job"][i["project_id"]]),
                    "tranDate": i["invoice_date"],
                    "dueDate": i["due_date"],
                    "status": _ref("A" if i["status"] != "Paid" else "B", i["status"]),
                    "total": i["amount"],
                    "currency": _ref("1", "USD"),
                }
            ),
            i["id"],
        )


def seed(size="test", seed_value: int = 42) -> dict:
    firm = generate_firm(seed_value, size)
    ids = {
        "customer": _ids(firm.clients, 1000),
        "employee": _ids(firm.consultants, 300),
        "job": _ids(firm.projects, 4000),
    }
    loaders = {"customer": customers, "employee": employees, "job": jobs, "timeBill": time_bills, "invoice": invoices}
    return {name: store.bulk_load(VENDOR, name, rows(firm, ids)) for name, rows in loaders.items()}


def demo_connection(base_url: str) -> dict:
    """The M2M certificate's key and id, and a sandbox account id."""
    from integrations.sandboxes.netsuite import keys

    return {
        "config": {"account_id": "1234567_SB1", "certificate_id": keys.CERTIFICATE_ID},
        "credentials": {"private_key": keys.private_key_pem()},
    }
