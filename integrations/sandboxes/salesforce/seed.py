"""Seed the Salesforce sandbox from the deterministic firm: clients become Accounts,
opportunities become Opportunities (won ones Closed Won), in Salesforce's field names."""

from __future__ import annotations

from datetime import date, timedelta

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.salesforce import VENDOR, ids, records
from integrations.sandboxes.salesforce.schema import SOBJECTS
from integrations.sandboxes.seed.firm import BASE_DATE, generate_firm

SEED = 42
STAGE_NAMES = {"Proposal": "Proposal/Price Quote", "Negotiation": "Negotiation/Review"}
PROBABILITY = {"Prospecting": 10, "Qualification": 20, "Proposal/Price Quote": 60, "Negotiation/Review": 80,
               "Closed Won": 100, "Closed Lost": 0}  # fmt: skip


def _stamp(day: str, n: int) -> str:
    """A deterministic timestamp on `day`, distinct per record number."""
    return f"{day}T{8 + (n // 3600) % 12:02d}:{(n // 60) % 60:02d}:{n % 60:02d}.000+0000"


def accounts(firm) -> list[tuple[str, dict, str]]:
    rows = []
    for n, client in enumerate(firm.clients, start=1):
        record_id, stamp = ids.make_id("Account", n), _stamp(client["created"], n)
        data = {name: None for name in SOBJECTS["Account"].fields}
        data.update(Id=record_id, Name=client["name"], BillingCountry=client["country"], Industry=client["industry"],
                    Website=f"https://www.{client['domain']}", ERP_Customer_Id__c=client["id"],
                    CreatedDate=stamp, LastModifiedDate=stamp, SystemModstamp=stamp)  # fmt: skip
        rows.append((record_id, data, client["id"]))
    return rows


def opportunity(opp: dict, n: int, account_id: str | None, external_id: str) -> dict:
    stage = STAGE_NAMES.get(opp["stage"], opp["stage"])
    created = (date.fromisoformat(opp["close_date"]) - timedelta(days=45)).isoformat()
    modified = _stamp(min(opp["close_date"], (BASE_DATE + timedelta(days=120)).isoformat()), n)
    data = {name: None for name in SOBJECTS["Opportunity"].fields}
    data.update(
        Id=ids.make_id("Opportunity", n), Name=opp["name"], AccountId=account_id, StageName=stage,
        IsWon=stage == "Closed Won", IsClosed=stage.startswith("Closed"), CloseDate=opp["close_date"],
        Amount=opp["amount"], CurrencyIsoCode=opp["currency"], Probability=PROBABILITY.get(stage, 50),
        Type=opp["type"], OwnerId="0055g00000Qw3rTAAR", Region__c=opp["region"],
        Project_Start_Date__c=opp["start_date"], External_Id__c=external_id,
        CreatedDate=_stamp(created, n), LastModifiedDate=modified, SystemModstamp=modified,
    )  # fmt: skip
    return data


def opportunities(firm, account_ids: dict[str, str]) -> list[tuple[str, dict, str]]:
    rows = []
    for n, opp in enumerate(firm.opportunities, start=1):
        data = opportunity(opp, n, account_ids.get(opp["client_id"]), opp["id"])
        rows.append((data["Id"], data, opp["id"]))
    return rows


def seed(size: str | int = "demo") -> dict:
    firm = generate_firm(SEED, size)
    account_rows = accounts(firm)
    account_ids = {ext: rid for rid, _data, ext in account_rows}
    opp_rows = opportunities(firm, account_ids)
    store.bulk_load(VENDOR, "Account", account_rows)
    store.bulk_load(VENDOR, "Opportunity", opp_rows)
    records.set_sequence("Account", len(account_rows))
    records.set_sequence("Opportunity", len(opp_rows))
    return {"Account": len(account_rows), "Opportunity": len(opp_rows)}


def add_opportunities(count: int) -> int:
    """Bulk-load `count` more deterministic opportunities (pagination and load tests)."""
    firm = generate_firm(SEED, "test")
    account_ids = {r.external_id: r.record_id for r in store.records(VENDOR, "Account")}
    start = records.sequence("Opportunity")
    rows = []
    for i in range(count):
        n = start + i + 1
        template = firm.opportunities[i % len(firm.opportunities)]
        data = opportunity(template, n, account_ids.get(template["client_id"]), f"BULK-{n:06d}")
        rows.append((data["Id"], data, f"BULK-{n:06d}"))
    store.bulk_load(VENDOR, "Opportunity", rows)
    records.set_sequence("Opportunity", start + count)
    return count
