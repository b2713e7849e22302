"""Seed the HubSpot sandbox from the deterministic firm: clients become companies (with
an accounts-payable contact each), opportunities become deals associated to them."""

from __future__ import annotations

from datetime import date, timedelta

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.hubspot import VENDOR, records
from integrations.sandboxes.hubspot.properties import TYPES
from integrations.sandboxes.seed.firm import generate_firm

SEED = 42
STAGES = {"Closed Won": "closedwon", "Prospecting": "appointmentscheduled", "Qualification": "qualifiedtobuy",
          "Proposal": "presentationscheduled", "Negotiation": "contractsent"}  # fmt: skip


def _stamp(day: str, n: int) -> str:
    return f"{day}T{8 + (n // 3600) % 12:02d}:{(n // 60) % 60:02d}:{n % 60:02d}.000Z"


def _row(kind: str, n: int, properties: dict, created: str, modified: str) -> tuple[str, dict, str | None]:
    otype = TYPES[kind]
    record_id = str(records.ID_BASE[kind] + n)
    data = records.make_data(otype, record_id, properties, modified, created)
    return record_id, data, records.external_of(otype, properties)


def companies(firm) -> list[tuple[str, dict, str | None]]:
    return [
        _row("companies", n, {"name": c["name"], "domain": c["domain"], "industry": c["industry"],
                              "country": c["country"], "erp_customer_id": c["id"]},
             _stamp(c["created"], n), _stamp(c["created"], n))
        for n, c in enumerate(firm.clients, start=1)
    ]  # fmt: skip


def contacts(firm) -> list[tuple[str, dict, str | None]]:
    return [
        _row("contacts", n, {"email": c["billing_email"], "firstname": "Accounts", "lastname": "Payable",
                             "jobtitle": "Accounts Payable",
                             "associatedcompanyid": str(records.ID_BASE["companies"] + n)},
             _stamp(c["created"], n), _stamp(c["created"], n))
        for n, c in enumerate(firm.clients, start=1)
    ]  # fmt: skip


def deal(opp: dict, n: int, company_id: str | None, external_id: str) -> tuple[str, dict, str | None]:
    created = (date.fromisoformat(opp["close_date"]) - timedelta(days=45)).isoformat()
    properties = {
        "dealname": opp["name"], "amount": str(int(opp["amount"])),
        "dealstage": STAGES.get(opp["stage"], "qualifiedtobuy"), "pipeline": "default",
        "closedate": f"{opp['close_date']}T00:00:00Z", "deal_currency_code": opp["currency"],
        "hubspot_owner_id": "71234567", "region": opp["region"], "psa_project_id": "", "external_id": external_id,
    }  # fmt: skip
    record_id, data, ext = _row("deals", n, properties, _stamp(created, n), _stamp(opp["close_date"], n))
    if company_id:
        data["associations"] = {"companies": [company_id]}
    return record_id, data, ext


def deals(firm, company_ids: dict[str, str]) -> list[tuple[str, dict, str | None]]:
    return [deal(o, n, company_ids.get(o["client_id"]), o["id"]) for n, o in enumerate(firm.opportunities, start=1)]


def seed(size: str | int = "demo") -> dict:
    firm = generate_firm(SEED, size)
    company_rows = companies(firm)
    company_ids = {ext.upper(): rid for rid, _d, ext in company_rows}
    deal_rows = deals(firm, company_ids)
    contact_rows = contacts(firm)
    for kind, rows in (("companies", company_rows), ("contacts", contact_rows), ("deals", deal_rows)):
        store.bulk_load(VENDOR, kind, rows)
        records.set_sequence(kind, len(rows))
    return {"companies": len(company_rows), "contacts": len(contact_rows), "deals": len(deal_rows)}


def add_deals(count: int) -> int:
    """Bulk-load `count` more deterministic deals (pagination and load tests)."""
    firm = generate_firm(SEED, "test")
    seq = store.get(VENDOR, "_seq", "deals")
    start = seq.data["n"] if seq else 0
    rows = [deal(firm.opportunities[i % len(firm.opportunities)], start + i + 1, None, f"BULK-{start + i + 1:06d}")
            for i in range(count)]  # fmt: skip
    store.bulk_load(VENDOR, "deals", rows)
    records.set_sequence("deals", start + count)
    return count


def demo_connection(base_url: str) -> dict:
    """seed_demo hook: besides the standard credentials, point the sandbox's deal webhooks
    at the demo connection's intake (/hooks/hubspot/) unless a target is already set."""
    from django.conf import settings

    from integrations.sandboxes.framework import setting_for

    cfg = setting_for(VENDOR)
    if not cfg.webhook_target:
        cfg.webhook_target = f"{settings.SWITCHBOARD_SANDBOX_ORIGIN.rstrip('/')}/hooks/{VENDOR}/"
        cfg.save(update_fields=["webhook_target"])
    return {}
