"""Crosswalk links for the sandbox firm's projects, so reconciliation (and the demo) can
say which Salesforce opportunity, Kantata workspace and NetSuite job are one project.

The canonical project id is the firm's project id (PRJ-2025-0001); each sandbox seed numbers
its records in the firm's order, which is what the ids below follow. `seed_links` is
idempotent (existing links stay) and is safe to call from `manage.py seed_demo`."""

from integrations.crosswalk.models import CrosswalkLink, LinkSource
from integrations.sandboxes.kantata.records import ID_BASE
from integrations.sandboxes.salesforce import ids as salesforce_ids
from integrations.sandboxes.seed.firm import generate_firm

SEED = 42
NETSUITE_FIRST_JOB = 4000  # integrations/sandboxes/netsuite/seed.py numbers jobs from here
SYSTEMS = {"crm": "salesforce", "psa": "kantata", "erp": "netsuite"}


def project_links(size: str | int = "demo", systems: dict[str, str] | None = None) -> list[CrosswalkLink]:
    names = {**SYSTEMS, **(systems or {})}
    firm = generate_firm(SEED, size)
    opportunity_number = {opp["id"]: n for n, opp in enumerate(firm.opportunities, start=1)}
    links = []
    for n, project in enumerate(firm.projects):
        per_system = {
            names["crm"]: salesforce_ids.make_id("Opportunity", opportunity_number[project["opportunity_id"]]),
            names["psa"]: str(ID_BASE["workspaces"] + n + 1),
            names["erp"]: str(NETSUITE_FIRST_JOB + n),
        }
        links += [
            CrosswalkLink(object="project", canonical_id=project["id"], system=system, external_id=external,
                          source=LinkSource.SEED)
            for system, external in per_system.items()
        ]  # fmt: skip
    return links


def seed_links(size: str | int = "demo", systems: dict[str, str] | None = None) -> int:
    """Create the links that are missing; how many were added."""
    links = project_links(size, systems)
    before = CrosswalkLink.objects.filter(object="project").count()
    CrosswalkLink.objects.bulk_create(links, ignore_conflicts=True)
    return CrosswalkLink.objects.filter(object="project").count() - before
