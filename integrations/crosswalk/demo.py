"""Demo crosswalk for `manage.py seed_demo`: each consultant of the sandbox firm is one
canonical worker (the HR worker id, which NetSuite employees carry as externalId), linked
to their Kantata user id — so the demo's approved-time flow can name the NetSuite employee
of every Kantata time entry.

The ids come from the same deterministic firm and the same numbering the Kantata sandbox
seed uses. Consultant n is Kantata user n and worker W-(21000 + n) at every seed size, so
the links are made for the largest firm a sandbox can be reset to (1,333 consultants) and
hold whatever size is loaded. Idempotent: existing links are kept."""

from integrations.crosswalk.models import CrosswalkLink
from integrations.sandboxes.kantata.seed import SEED, users
from integrations.sandboxes.seed.firm import MAX_TIME_ENTRIES, generate_firm

WORKER, SYSTEM = "worker", "kantata"


def demo_links() -> list[CrosswalkLink]:
    firm = generate_firm(SEED, MAX_TIME_ENTRIES)
    return [
        CrosswalkLink(object=WORKER, system=SYSTEM, external_id=user_id, canonical_id=consultant["worker_id"])
        for consultant, (user_id, _row, _key) in zip(firm.consultants, users(firm), strict=True)
    ]


def seed(stdout) -> None:
    links = demo_links()
    before = CrosswalkLink.objects.filter(object=WORKER, system=SYSTEM).count()
    CrosswalkLink.objects.bulk_create(links, ignore_conflicts=True)  # a link that exists stays as it is
    added = CrosswalkLink.objects.filter(object=WORKER, system=SYSTEM).count() - before
    stdout.write(f"  crosswalk: {added} Kantata user → worker links added ({len(links) - added} already there)\n")
