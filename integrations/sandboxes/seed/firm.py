"""A deterministic professional-services firm: the same seed and size always give the
same clients, opportunities (some won), consultants, projects, assignments, expenses,
invoices and time entries. Vendors map it into their own shapes in `<vendor>/seed.py`.

Time entries are generated lazily (`firm.time_entries()`), so a benchmark firm with
100,000 of them never sits in memory as a list.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

BASE_DATE = date(2025, 1, 6)  # a Monday: every date is relative to it, never to today
SIZES = {
    "test": {"clients": 12, "consultants": 24, "time_entries": 1200},
    "demo": {"clients": 40, "consultants": 80, "time_entries": 6000},
}
MAX_TIME_ENTRIES = 100_000

_COMPANY_A = (
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Litware",
    "Adatum",
    "Proseware",
    "Wingtip",
    "Alpine",
    "Bluebird",
    "Coho",
    "Lucerne",
    "Margie's",
    "Fourth Coffee",
    "Wide World",
    "Trey",
    "Humongous",
    "Blue Yonder",
    "Woodgrove",
    "Relecloud",
    "Consolidated",
    "Graphic",
    "Southridge",
    "VanArsdel",
)
_COMPANY_B = (
    "Traders",
    "Industries",
    "Holdings",
    "Logistics",
    "Health",
    "Energy",
    "Foods",
    "Bank",
    "Airlines",
    "Insurance",
    "Pharma",
    "Retail",
)
_INDUSTRIES = ("Manufacturing", "Healthcare", "Financial Services", "Retail", "Energy", "Logistics", "Public Sector")
_REGIONS = (
    ("NA", "US", "San Francisco"),
    ("NA", "US", "Chicago"),
    ("NA", "CA", "Toronto"),
    ("EMEA", "GB", "London"),
    ("EMEA", "DE", "Berlin"),
    ("EMEA", "FR", "Paris"),
    ("APAC", "AU", "Sydney"),
    ("APAC", "SG", "Singapore"),
)
_FIRST = (
    "Priya",
    "Dana",
    "Marcus",
    "Elena",
    "Tomás",
    "Aiko",
    "Liam",
    "Fatima",
    "Noah",
    "Sofia",
    "Kwame",
    "Ingrid",
    "Rahul",
    "Chloe",
    "Mateo",
    "Hana",
    "Oliver",
    "Amara",
    "Lucas",
    "Yara",
    "Ethan",
    "Mei",
    "Jonas",
    "Zara",
)
_LAST = (
    "Raman",
    "Whitfield",
    "Okafor",
    "Novak",
    "García",
    "Tanaka",
    "Byrne",
    "Haddad",
    "Schmidt",
    "Rossi",
    "Mensah",
    "Larsen",
    "Iyer",
    "Dubois",
    "Silva",
    "Kim",
    "Walsh",
    "Nwosu",
    "Moreau",
    "Costa",
)
_TITLES = (
    ("Consultant", 120, 55),
    ("Senior Consultant", 175, 82),
    ("Manager", 220, 105),
    ("Senior Manager", 260, 125),
    ("Principal", 320, 160),
    ("Solution Architect", 240, 115),
)
_ENGAGEMENTS = (
    "ERP Rollout",
    "CRM Modernisation",
    "Data Platform",
    "Cloud Migration",
    "Finance Transformation",
    "Supply Chain Review",
    "Security Assessment",
    "PMO Setup",
    "Analytics Enablement",
    "HR Systems Upgrade",
)
_STAGES_OPEN = ("Prospecting", "Qualification", "Proposal", "Negotiation")
_WORK = (
    "Discovery workshop",
    "Requirements",
    "Solution design",
    "Configuration",
    "Data migration",
    "Testing support",
    "Training",
    "Status meeting",
    "Cutover planning",
    "Hypercare",
)
_EXPENSES = (("Travel", 180, 900), ("Lodging", 120, 450), ("Meals", 20, 90), ("Mileage", 15, 120))


@dataclass
class Firm:
    seed: int
    size: str | int
    time_entry_count: int
    clients: list[dict] = field(default_factory=list)
    opportunities: list[dict] = field(default_factory=list)
    consultants: list[dict] = field(default_factory=list)
    projects: list[dict] = field(default_factory=list)
    assignments: list[dict] = field(default_factory=list)
    expenses: list[dict] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)

    @property
    def workers(self) -> list[dict]:
        return self.consultants

    def time_entries(self) -> Iterator[dict]:
        """The firm's time entries, generated on demand in a fixed order."""
        rng = random.Random(self.seed * 7919 + 1)
        assignments = self.assignments or []
        if not assignments:
            return
        for n in range(self.time_entry_count):
            a = assignments[n % len(assignments)]
            week, weekday = divmod((n // len(assignments)), 5)
            day = date.fromisoformat(a["start_date"]) + timedelta(weeks=week % 26, days=weekday)
            minutes = rng.choice((240, 360, 420, 450, 480, 480, 510))
            yield {
                "id": f"TE-{n + 1:06d}",
                "project_id": a["project_id"],
                "consultant_id": a["consultant_id"],
                "assignment_id": a["id"],
                "date": day.isoformat(),
                "minutes": minutes,
                "hours": round(minutes / 60, 2),
                "billable": rng.random() < 0.85,
                "notes": rng.choice(_WORK),
                "rate": a["bill_rate"],
                "currency": a["currency"],
                "approved": day < BASE_DATE + timedelta(weeks=20),
                "invoiced": day < BASE_DATE + timedelta(weeks=12),
            }


def _counts(size: str | int) -> dict[str, int]:
    if isinstance(size, str):
        if size not in SIZES:
            raise ValueError(f"size must be one of {', '.join(SIZES)} or a number of time entries")
        return dict(SIZES[size])
    entries = max(0, min(int(size), MAX_TIME_ENTRIES))
    # Scale people and clients with the work, within a firm-like range.
    return {
        "clients": max(5, min(400, entries // 150)),
        "consultants": max(10, min(1500, entries // 75)),
        "time_entries": entries,
    }


def generate_firm(seed: int = 42, size: str | int = "demo") -> Firm:
    counts = _counts(size)
    rng = random.Random(seed)
    firm = Firm(seed=seed, size=size, time_entry_count=counts["time_entries"])
    _clients(firm, rng, counts["clients"])
    _consultants(firm, rng, counts["consultants"])
    _opportunities_and_projects(firm, rng)
    _assignments(firm, rng)
    _expenses_and_invoices(firm, rng)
    return firm


def _clients(firm: Firm, rng: random.Random, count: int) -> None:
    for i in range(count):
        name = f"{_COMPANY_A[i % len(_COMPANY_A)]} {_COMPANY_B[(i // len(_COMPANY_A) + i) % len(_COMPANY_B)]}"
        if i >= len(_COMPANY_A) * len(_COMPANY_B):
            name += f" {i}"
        region, country, _city = rng.choice(_REGIONS)
        slug = name.lower().replace("'", "").replace(" ", "")
        firm.clients.append(
            {
                "id": f"C-{10001 + i}",
                "name": name,
                "domain": f"{slug}.example",
                "industry": rng.choice(_INDUSTRIES),
                "country": country,
                "region": region,
                "billing_email": f"ap@{slug}.example",
                "created": (BASE_DATE - timedelta(days=rng.randint(60, 900))).isoformat(),
            }
        )


def _consultants(firm: Firm, rng: random.Random, count: int) -> None:
    for i in range(count):
        first, last = _FIRST[i % len(_FIRST)], _LAST[(i * 7 + i // len(_FIRST)) % len(_LAST)]
        title, bill, cost = _TITLES[0 if i < count // 3 else rng.randrange(len(_TITLES))]
        region, country, city = _REGIONS[i % len(_REGIONS)]
        suffix = "" if i < len(_FIRST) * len(_LAST) // 4 else str(i)
        firm.consultants.append(
            {
                "id": f"E-{i + 1:04d}",
                "worker_id": f"W-{21001 + i}",
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}.{last.lower()}{suffix}@firm.example".replace("á", "a").replace("í", "i"),
                "title": title,
                "department": "Professional Services",
                "region": region,
                "country": country,
                "location": city,
                "hire_date": (BASE_DATE - timedelta(days=rng.randint(30, 2500))).isoformat(),
                "status": "Active" if rng.random() < 0.95 else "Terminated",
                "bill_rate": float(bill),
                "cost_rate": float(cost),
                "manager_id": f"E-{(i // 8) + 1:04d}" if i >= 8 else None,
            }
        )


def _opportunities_and_projects(firm: Firm, rng: random.Random) -> None:
    number = 0
    for client in firm.clients:
        for _ in range(rng.randint(1, 4)):
            number += 1
            won = rng.random() < 0.55
            close = BASE_DATE + timedelta(days=rng.randint(-60, 120))
            amount = float(rng.randrange(40, 900) * 1000)
            opp = {
                "id": f"OPP-{number:05d}",
                "client_id": client["id"],
                "name": f"{client['name'].split()[0]} - {rng.choice(_ENGAGEMENTS)}",
                "won": won,
                "stage": "Closed Won" if won else rng.choice(_STAGES_OPEN),
                "amount": amount,
                "currency": "USD",
                "close_date": close.isoformat(),
                "start_date": (close + timedelta(days=14)).isoformat(),
                "type": rng.choice(("New Business", "Existing Business")),
                "region": client["region"],
            }
            firm.opportunities.append(opp)
            if won:
                _project(firm, rng, opp)


def _project(firm: Firm, rng: random.Random, opp: dict) -> None:
    start = date.fromisoformat(opp["start_date"])
    manager = rng.choice(
        [c for c in firm.consultants if c["title"] in ("Manager", "Senior Manager")] or firm.consultants
    )
    firm.projects.append(
        {
            "id": f"PRJ-2025-{len(firm.projects) + 1:04d}",
            "opportunity_id": opp["id"],
            "client_id": opp["client_id"],
            "name": opp["name"],
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(weeks=rng.randint(8, 40))).isoformat(),
            "budget": opp["amount"],
            "currency": opp["currency"],
            "billing_type": rng.choice(("Time and Materials", "Fixed Fee")),
            "manager_id": manager["id"],
            "status": "In Progress",
            "region": opp["region"],
        }
    )


def _assignments(firm: Firm, rng: random.Random) -> None:
    active = [c for c in firm.consultants if c["status"] == "Active"] or firm.consultants
    for project in firm.projects:
        for consultant in rng.sample(active, k=min(len(active), rng.randint(2, 5))):
            firm.assignments.append(
                {
                    "id": f"AS-{len(firm.assignments) + 1:05d}",
                    "project_id": project["id"],
                    "consultant_id": consultant["id"],
                    "role": consultant["title"],
                    "start_date": project["start_date"],
                    "end_date": project["end_date"],
                    "hours_per_week": rng.choice((16, 24, 32, 40)),
                    "bill_rate": consultant["bill_rate"],
                    "currency": project["currency"],
                }
            )


def _expenses_and_invoices(firm: Firm, rng: random.Random) -> None:
    for a in firm.assignments[: len(firm.assignments) // 2]:
        category, low, high = rng.choice(_EXPENSES)
        firm.expenses.append(
            {
                "id": f"EX-{len(firm.expenses) + 1:05d}",
                "project_id": a["project_id"],
                "consultant_id": a["consultant_id"],
                "date": (date.fromisoformat(a["start_date"]) + timedelta(days=rng.randint(0, 40))).isoformat(),
                "category": category,
                "amount": float(rng.randint(low, high)),
                "currency": a["currency"],
                "billable": rng.random() < 0.8,
            }
        )
    for project in firm.projects:
        start = date.fromisoformat(project["start_date"])
        for month in range(rng.randint(0, 3)):
            issued = start + timedelta(days=30 * (month + 1))
            firm.invoices.append(
                {
                    "id": f"INV-{1001 + len(firm.invoices)}",
                    "number": f"INV-{1001 + len(firm.invoices)}",
                    "project_id": project["id"],
                    "client_id": project["client_id"],
                    "invoice_date": issued.isoformat(),
                    "due_date": (issued + timedelta(days=30)).isoformat(),
                    "amount": round(project["budget"] / rng.randint(4, 10), 2),
                    "currency": project["currency"],
                    "status": rng.choice(("Open", "Paid", "Paid", "Overdue")),
                }
            )
