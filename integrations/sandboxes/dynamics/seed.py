"""The firm, as a Dataverse org sees it: accounts (accountnumber = the firm's client id),
one billing contact per account, opportunities (won ones at statecode 1), Project
Operations projects and time entries (duration in minutes). GUIDs are derived from the
firm's ids, so a re-seed gives the same records."""

from __future__ import annotations

import uuid

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.dynamics import VENDOR
from integrations.sandboxes.seed.firm import generate_firm

_NS = uuid.UUID("6f1c2a3e-9b1d-4f11-8409-000d3a5b2c10")
STAMP = "2025-01-06T09:00:00Z"


def guid(kind: str, firm_id: str) -> str:
    return str(uuid.uuid5(_NS, f"{kind}:{firm_id}"))


def _row(key: str, record_id: str, data: dict) -> dict:
    return {key: record_id, "statecode": 0, "statuscode": 1, "createdon": STAMP, "modifiedon": STAMP, **data}


def accounts(firm):
    for c in firm.clients:
        rid = guid("account", c["id"])
        yield (
            rid,
            _row(
                "accountid",
                rid,
                {
                    "name": c["name"],
                    "accountnumber": c["id"],
                    "emailaddress1": c["billing_email"],
                    "address1_country": c["country"],
                    "telephone1": None,
                    "address1_city": None,
                    "revenue": None,
                },
            ),
            c["id"],
        )


def contacts(firm):
    for c in firm.clients:
        rid = guid("contact", c["id"])
        yield (
            rid,
            _row(
                "contactid",
                rid,
                {
                    "firstname": "Accounts",
                    "lastname": "Payable",
                    "fullname": "Accounts Payable",
                    "emailaddress1": c["billing_email"],
                    "jobtitle": "Billing contact",
                    "_parentcustomerid_value": guid("account", c["id"]),
                },
            ),
            c["billing_email"],
        )


def opportunities(firm):
    for o in firm.opportunities:
        rid = guid("opportunity", o["id"])
        yield (
            rid,
            _row(
                "opportunityid",
                rid,
                {
                    "name": o["name"],
                    "estimatedvalue": o["amount"],
                    "actualvalue": o["amount"] if o["won"] else None,
                    "estimatedclosedate": o["close_date"],
                    "actualclosedate": o["close_date"] if o["won"] else None,
                    "statecode": 1 if o["won"] else 0,
                    "statuscode": 3 if o["won"] else 1,
                    "_parentaccountid_value": guid("account", o["client_id"]),
                },
            ),
            None,
        )


def projects(firm):
    for p in firm.projects:
        rid = guid("project", p["id"])
        yield (
            rid,
            _row(
                "msdyn_projectid",
                rid,
                {
                    "msdyn_subject": p["name"],
                    "msdyn_description": f"From opportunity {p['opportunity_id']}",
                    "msdyn_scheduledstart": f"{p['start_date']}T00:00:00Z",
                    "msdyn_finish": f"{p['end_date']}T00:00:00Z",
                    "_msdyn_customer_value": guid("account", p["client_id"]),
                    "sb_externalref": p["id"],
                },
            ),
            p["id"],
        )


def time_entries(firm):
    for t in firm.time_entries():
        rid = guid("timeentry", t["id"])
        yield (
            rid,
            _row(
                "msdyn_timeentryid",
                rid,
                {
                    "msdyn_date": f"{t['date']}T00:00:00Z",
                    "msdyn_duration": t["minutes"],
                    "msdyn_description": t["notes"],
                    "msdyn_type": 192350000,
                    "msdyn_entrystatus": 192350002 if t["approved"] else 192350000,
                    "_msdyn_project_value": guid("project", t["project_id"]),
                    "_msdyn_bookableresource_value": guid("resource", t["consultant_id"]),
                    "sb_externalref": t["id"],
                },
            ),
            t["id"],
        )


def seed(size="test", seed_value: int = 42) -> dict:
    firm = generate_firm(seed_value, size)
    sets = {
        "accounts": accounts,
        "contacts": contacts,
        "opportunities": opportunities,
        "msdyn_projects": projects,
        "msdyn_timeentries": time_entries,
    }
    return {name: store.bulk_load(VENDOR, name, rows(firm)) for name, rows in sets.items()}


def demo_connection(base_url: str) -> dict:
    """What the demo connection needs beyond the standard sandbox credentials."""
    from integrations.sandboxes.dynamics.auth import TENANT

    return {"config": {"tenant_id": TENANT, "token_url": f"{base_url}/{TENANT}/oauth2/v2.0/token"}}
