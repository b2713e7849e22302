"""Crosswalk reads and writes used by mappings, deliveries and the crosswalk page.

canonical_id("worker", "kantata", "20301")         → "W-21001" or None
external_id("worker", "W-21001", "netsuite")        → "300" or None
link(object, system, external, canonical=None, source=..., run_id=None)   idempotent
link_by_hand(user, ...) / unlink(user, link, reason)                      audited
"""

import uuid

from django.db import IntegrityError, transaction

from integrations.audit import services as audit
from integrations.crosswalk.models import CrosswalkLink, LinkSource


class LinkInvalid(ValueError):
    """A link or unlink that cannot be made; `field` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def canonical_id(object: str, system: str, external_id: str) -> str | None:
    link = CrosswalkLink.objects.filter(object=object, system=system, external_id=str(external_id)).first()
    return link.canonical_id if link else None


def external_id(object: str, canonical: str, system: str) -> str | None:
    link = CrosswalkLink.objects.filter(object=object, canonical_id=canonical, system=system).first()
    return link.external_id if link else None


def new_canonical_id() -> str:
    return uuid.uuid4().hex


def link(
    object: str,
    system: str,
    external: str,
    canonical: str | None = None,
    *,
    source: str = LinkSource.SEED,
    run_id: int | None = None,
) -> CrosswalkLink:
    """Link an external id to a canonical identity (a new one when none is given); idempotent:
    an external id already linked keeps its link (even to another identity — the caller
    compares `canonical_id` when that matters)."""
    existing = CrosswalkLink.objects.filter(object=object, system=system, external_id=str(external)).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return CrosswalkLink.objects.create(
                object=object,
                system=system,
                external_id=str(external),
                canonical_id=canonical or new_canonical_id(),
                source=source,
                run_id=run_id,
            )
    except IntegrityError:
        found = CrosswalkLink.objects.filter(object=object, system=system, external_id=str(external)).first()
        if found is None:  # the identity already has another id in this system
            raise
        return found


@transaction.atomic
def link_by_hand(user, object: str, canonical: str, system: str, external: str, reason: str) -> CrosswalkLink:
    """A person links `system:external` to `canonical` (audited, reason required)."""
    values = {"object": object, "canonical_id": canonical, "system": system, "external_id": external}
    for name, value in (*values.items(), ("reason", reason)):
        if not str(value or "").strip():
            raise LinkInvalid(name, "is required")
    taken = CrosswalkLink.objects.filter(object=object, system=system, external_id=external).first()
    if taken:
        raise LinkInvalid("external_id", f"{system} id {external} is already linked to {taken.canonical_id}")
    other = CrosswalkLink.objects.filter(object=object, system=system, canonical_id=canonical).first()
    if other:
        raise LinkInvalid("system", f"{canonical} already has {system} id {other.external_id}; unlink it first")
    created = CrosswalkLink.objects.create(**values, source=LinkSource.MANUAL)
    audit.record(user, "crosswalk.link", created, after=values, message=reason.strip()[:500])
    return created


@transaction.atomic
def unlink(user, link: CrosswalkLink, reason: str) -> None:
    if not (reason or "").strip():
        raise LinkInvalid("reason", "say why the link is wrong")
    before = {"object": link.object, "canonical_id": link.canonical_id, "system": link.system,
              "external_id": link.external_id}  # fmt: skip
    audit.record(user, "crosswalk.unlink", link, before=before, message=reason.strip()[:500])
    link.delete()
