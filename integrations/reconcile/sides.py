"""What each vendor's records say, for each reconciliation job: which connector object to
read and how one record becomes (id, key, label, compared values).

Keys: workers are matched across systems by work e-mail, the one identifier the HR, PSA
and ERP APIs all expose; projects by their crosswalk identity (each system's id → the
canonical project); hours by (canonical project, month)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from integrations.crosswalk.systems import System


@dataclass(frozen=True)
class Row:
    external_id: str
    key: str  # '' = resolve through the crosswalk from `external_id` (or `project_ref` for hours)
    label: str
    values: dict[str, Any]
    month: str = ""  # hours only
    project_ref: str = ""  # hours only: the system's project id the entry belongs to


@dataclass(frozen=True)
class Side:
    object: str
    extract: Callable[[dict], Row | None]


def pick(record: dict, *names: str) -> Any:
    """A field by any of its spellings (SuiteQL answers lower-case columns); a reference
    object gives its id."""
    for name in names:
        for candidate in (name, name.lower()):
            if candidate in record and record[candidate] not in (None, ""):
                value = record[candidate]
                return value.get("id") if isinstance(value, dict) and "id" in value else value
    return None


def _email(value) -> str:
    return str(value or "").strip().casefold()


def _workday_worker(r: dict) -> Row | None:
    email = _email(r.get("primaryWorkEmail"))
    values = {"name": r.get("descriptor"), "title": r.get("businessTitle")}
    return Row(str(r.get("id")), email, str(r.get("descriptor") or email), values) if email else None


def _kantata_user(r: dict) -> Row | None:
    email = _email(r.get("email_address"))
    values = {"name": r.get("full_name"), "title": r.get("headline")}
    return Row(str(r.get("id")), email, str(r.get("full_name") or email), values) if email else None


def _netsuite_employee(r: dict) -> Row | None:
    email = _email(pick(r, "email"))
    name = " ".join(str(p) for p in (pick(r, "firstName"), pick(r, "lastName")) if p)
    return Row(str(pick(r, "id")), email, name or email, {"name": name, "title": pick(r, "title")}) if email else None


def _salesforce_opportunity(r: dict) -> Row | None:
    if not r.get("IsWon"):
        return None  # only a won opportunity is a project
    return Row(str(r["Id"]), "", str(r.get("Name") or r["Id"]), {"name": r.get("Name")})


def _kantata_workspace(r: dict) -> Row | None:
    return Row(str(r["id"]), "", str(r.get("title") or r["id"]), {"name": r.get("title")})


def _netsuite_job(r: dict) -> Row | None:
    name = pick(r, "companyName")
    return Row(str(pick(r, "id")), "", str(name or pick(r, "id")), {"name": name})


def _kantata_time(r: dict) -> Row | None:
    if not r.get("approved"):
        return None
    hours = (r.get("time_in_minutes") or 0) / 60
    month = str(r.get("date_performed") or "")[:7]
    return Row(str(r["id"]), "", "", {"hours": hours}, month, str(r.get("workspace_id") or ""))


def _netsuite_time(r: dict) -> Row | None:
    status = r.get("approvalStatus", r.get("approvalstatus"))
    approved = status.get("id") if isinstance(status, dict) else status
    if str(approved) != "2":  # 2 = Approved
        return None
    month = str(pick(r, "tranDate") or "")[:7]
    return Row(str(pick(r, "id")), "", "", {"hours": float(pick(r, "hours") or 0)}, month, str(pick(r, "customer")))


# job → role → connector kind → Side
SIDES: dict[str, dict[str, dict[str, Side]]] = {
    "workers": {
        System.HR: {"workday": Side("workers", _workday_worker)},
        System.PSA: {"kantata": Side("users", _kantata_user)},
        System.ERP: {"netsuite": Side("employee", _netsuite_employee)},
    },
    "projects": {
        System.CRM: {"salesforce": Side("Opportunity", _salesforce_opportunity)},
        System.PSA: {"kantata": Side("workspaces", _kantata_workspace)},
        System.ERP: {"netsuite": Side("job", _netsuite_job)},
    },
    "hours": {
        System.PSA: {"kantata": Side("time_entries", _kantata_time)},
        System.ERP: {"netsuite": Side("timeBill", _netsuite_time)},
    },
}
