"""Seed the Kantata sandbox from the deterministic firm: consultants become users,
projects become workspaces (linked to their CRM opportunity by an external reference),
assignments become participations, and the firm's time entries become time entries."""

from __future__ import annotations

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.kantata import ACCOUNT_ID, VENDOR, members, records
from integrations.sandboxes.kantata.resources import price_fields
from integrations.sandboxes.seed.firm import generate_firm

SEED = 42
STATUS = {"In Progress": {"color": "green", "key": 310, "message": "In Progress"}}


def _stamp(day: str, n: int) -> str:
    return f"{day}T{8 + (n // 3600) % 12:02d}:{(n // 60) % 60:02d}:{n % 60:02d}+00:00"


def _id(key: str, n: int) -> str:
    return str(records.ID_BASE[key] + n)


def users(firm) -> list[tuple[str, dict, None]]:
    rows = []
    for n, c in enumerate(firm.consultants, start=1):
        stamp = _stamp(c["hire_date"], n)
        rows.append((_id("users", n), {"id": _id("users", n), "full_name": f"{c['first_name']} {c['last_name']}",
                                       "email_address": c["email"], "headline": c["title"], "account_id": ACCOUNT_ID,
                                       "account_membership_id": str(records.ID_BASE[members.MEMBERSHIPS] + n),
                                       "created_at": stamp, "updated_at": stamp}, None))  # fmt: skip
    return rows


def memberships(firm) -> list[tuple[str, dict, str]]:
    """Each consultant's account membership (members.py), active."""
    base = records.ID_BASE[members.MEMBERSHIPS]
    return [members.membership_row(str(base + n), _id("users", n), c["email"], _stamp(c["hire_date"], n))
            for n, c in enumerate(firm.consultants, start=1)]  # fmt: skip


def seed(size: str | int = "demo") -> dict:
    firm = generate_firm(SEED, size)
    user_rows = users(firm)
    user_ids = {c["id"]: _id("users", n) for n, c in enumerate(firm.consultants, start=1)}
    workspaces, stories, references, participations = [], [], [], []
    workspace_ids, story_ids = {}, {}
    for n, p in enumerate(firm.projects, start=1):
        wid, sid, stamp = _id("workspaces", n), _id("stories", n), _stamp(p["start_date"], n)
        workspace_ids[p["id"]], story_ids[p["id"]] = wid, sid
        team = [user_ids[a["consultant_id"]] for a in firm.assignments if a["project_id"] == p["id"]]
        workspaces.append(
            (
                wid,
                {
                    "id": wid,
                    "title": p["name"],
                    "description": f"From CRM {p['opportunity_id']}",
                    "creator_role": "maven",
                    "budgeted": True,
                    "currency": p["currency"],
                    "start_date": p["start_date"],
                    "due_date": p["end_date"],
                    "archived": False,
                    "status": STATUS.get(p["status"], STATUS["In Progress"]),
                    "account_id": ACCOUNT_ID,
                    "participant_ids": team,
                    "primary_counterpart_id": None,
                    **price_fields(str(int(p["budget"]))),
                    "created_at": stamp,
                    "updated_at": stamp,
                },
                None,
            )
        )
        stories.append(
            (
                sid,
                {
                    "id": sid,
                    "workspace_id": wid,
                    "title": "Delivery",
                    "story_type": "task",
                    "state": "started",
                    "start_date": p["start_date"],
                    "due_date": p["end_date"],
                    "assignee_ids": team,
                    "time_estimate_in_minutes": None,
                    "billable": True,
                    "parent_id": None,
                    "created_at": stamp,
                    "updated_at": stamp,
                },
                None,
            )
        )
        ref = {
            "id": _id("external_references", n),
            "subject_type": "Workspace",
            "subject_id": wid,
            "service_name": "salesforce",
            "service_model": "opportunity",
            "service_model_ref": p["opportunity_id"],
            "status": "synced",
            "external_link": None,
            "external_message": None,
            "created_at": stamp,
            "updated_at": stamp,
        }
        references.append((ref["id"], ref, records.reference_key(ref)))
    for n, a in enumerate(firm.assignments, start=1):
        pid = _id("participations", n)
        participations.append((pid, {"id": pid, "workspace_id": workspace_ids[a["project_id"]],
                                     "user_id": user_ids[a["consultant_id"]], "role": "maven", "permission": "edit",
                                     "is_team_lead": False, "created_at": _stamp(a["start_date"], n),
                                     "updated_at": _stamp(a["start_date"], n)}, None))  # fmt: skip
    counts = {}
    for key, rows in (("users", user_rows), ("workspaces", workspaces), ("stories", stories),
                      ("external_references", references), ("participations", participations),
                      ("expenses", expenses(firm, workspace_ids, user_ids)),
                      ("invoices", invoices(firm, workspace_ids))):  # fmt: skip
        counts[key] = store.bulk_load(VENDOR, key, rows)
        records.set_sequence(key, len(rows))
    counts[members.MEMBERSHIPS] = store.bulk_load(VENDOR, members.MEMBERSHIPS, memberships(firm))
    records.set_sequence(members.MEMBERSHIPS, counts[members.MEMBERSHIPS])
    counts["time_entries"] = store.bulk_load(VENDOR, "time_entries", _time_entries(firm, workspace_ids, story_ids,
                                                                                  user_ids))  # fmt: skip
    records.set_sequence("time_entries", counts["time_entries"])
    return counts


def expenses(firm, workspace_ids: dict, user_ids: dict) -> list[tuple[str, dict, None]]:
    rows = []
    for n, e in enumerate(firm.expenses, start=1):
        eid, stamp = _id("expenses", n), _stamp(e["date"], n)
        rows.append((eid, {
            "id": eid, "workspace_id": workspace_ids[e["project_id"]], "user_id": user_ids[e["consultant_id"]],
            "date": e["date"], "category": e["category"], "amount_in_cents": round(e["amount"] * 100),
            "currency": e["currency"], "billable": e["billable"], "notes": "", "is_invoiced": False,
            "invoice_id": None, "created_at": stamp, "updated_at": stamp}, None))  # fmt: skip
    return rows


def invoices(firm, workspace_ids: dict) -> list[tuple[str, dict, None]]:
    rows = []
    for n, i in enumerate(firm.invoices, start=1):
        iid, stamp, paid = _id("invoices", n), _stamp(i["invoice_date"], n), i["status"] == "Paid"
        rows.append((iid, {
            "id": iid, "workspace_ids": [workspace_ids[i["project_id"]]], "invoice_date": i["invoice_date"],
            "due_date": i["due_date"], "number": i["number"], "status": "paid" if paid else "sent", "draft": False,
            "paid": paid, "balance_in_cents": 0 if paid else round(i["amount"] * 100), "currency": i["currency"],
            "time_entry_ids": [], "expense_ids": [], "created_at": stamp, "updated_at": stamp}, None))  # fmt: skip
    return rows


def _time_entries(firm, workspace_ids: dict, story_ids: dict, user_ids: dict):
    for n, t in enumerate(firm.time_entries(), start=1):
        tid, stamp = _id("time_entries", n), _stamp(t["date"], n)
        yield tid, {
            "id": tid, "workspace_id": workspace_ids[t["project_id"]], "user_id": user_ids[t["consultant_id"]],
            "story_id": story_ids[t["project_id"]], "date_performed": t["date"], "time_in_minutes": t["minutes"],
            "billable": t["billable"], "notes": t["notes"], "rate_in_cents": round(t["rate"] * 100),
            "currency": t["currency"], "approved": t["approved"], "is_invoiced": t["invoiced"], "invoice_id": None,
            "role_id": None, "created_at": stamp, "updated_at": stamp,
        }, None  # fmt: skip
