"""Demo crosswalk for `manage.py seed_demo`: each consultant of the sandbox firm is one
canonical worker (the HR worker id, which NetSuite employees carry as externalId), linked
to their Kantata user id — so the demo's approved-time flow can name the NetSuite employee
of every Kantata time entry.

The ids come from the same deterministic firm and the same numbering the Kantata sandbox
seed uses. Consultant n is Kantata user n and worker W-(21000 + n) at every seed size, so
the links are made for the largest firm a sandbox can be reset to (1,333 consultants) and
hold whatever size is loaded.

Each project of the firm is one canonical project (the firm's project id, which NetSuite
jobs carry as externalId), linked to its Kantata workspace id, so the time-to-billing and expenses
reference flows can name the ERP project of every entry. Projects depend on the firm's size,
so their links are made for the size the Kantata sandbox holds (`link_projects(size)` after a
`sandbox_reset`). Idempotent: existing links are kept."""

from integrations.crosswalk.models import CrosswalkLink
from integrations.sandboxes.kantata import records as kantata_records
from integrations.sandboxes.kantata.seed import SEED, users
from integrations.sandboxes.models import SandboxRecord
from integrations.sandboxes.seed.firm import MAX_TIME_ENTRIES, SIZES, generate_firm

WORKER, SYSTEM = "worker", "kantata"


def demo_links() -> list[CrosswalkLink]:
    firm = generate_firm(SEED, MAX_TIME_ENTRIES)
    return [
        CrosswalkLink(object=WORKER, system=SYSTEM, external_id=user_id, canonical_id=consultant["worker_id"])
        for consultant, (user_id, _row, _key) in zip(firm.consultants, users(firm), strict=True)
    ]


def project_links(size: int | str) -> list[CrosswalkLink]:
    """Project n of the firm of this size is Kantata workspace n (the Kantata seed's numbering)."""
    firm = generate_firm(SEED, size)
    base = kantata_records.ID_BASE["workspaces"]
    return [
        CrosswalkLink(object="project", system=SYSTEM, external_id=str(base + n), canonical_id=project["id"])
        for n, project in enumerate(firm.projects, start=1)
    ]


def link_projects(size: int | str) -> int:
    links = project_links(size)
    before = CrosswalkLink.objects.filter(object="project", system=SYSTEM).count()
    CrosswalkLink.objects.bulk_create(links, ignore_conflicts=True)
    return CrosswalkLink.objects.filter(object="project", system=SYSTEM).count() - before


def loaded_size() -> int | str | None:
    """The size the Kantata sandbox was seeded at, from its number of time entries: a named
    size ("demo") when the count is one's, else the count (None: empty)."""
    count = SandboxRecord.objects.filter(vendor=SYSTEM, object_type="time_entries").count()
    named = [name for name, counts in SIZES.items() if counts["time_entries"] == count]
    return named[0] if named else (count or None)


def seed(stdout) -> None:
    links = demo_links()
    before = CrosswalkLink.objects.filter(object=WORKER, system=SYSTEM).count()
    CrosswalkLink.objects.bulk_create(links, ignore_conflicts=True)  # a link that exists stays as it is
    added = CrosswalkLink.objects.filter(object=WORKER, system=SYSTEM).count() - before
    stdout.write(f"  crosswalk: {added} Kantata user → worker links added ({len(links) - added} already there)\n")
    size = loaded_size()
    if size:
        added = link_projects(size)
        stdout.write(f"  crosswalk: {added} Kantata workspace → project links added\n")
