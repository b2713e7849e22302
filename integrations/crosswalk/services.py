"""Crosswalk reads and writes used by mappings and deliveries."""

import uuid

from django.db import IntegrityError, transaction

from integrations.crosswalk.models import CrosswalkLink


def canonical_id(object: str, system: str, external_id: str) -> str | None:
    link = CrosswalkLink.objects.filter(object=object, system=system, external_id=str(external_id)).first()
    return link.canonical_id if link else None


def external_id(object: str, canonical: str, system: str) -> str | None:
    link = CrosswalkLink.objects.filter(object=object, canonical_id=canonical, system=system).first()
    return link.external_id if link else None


def link(object: str, system: str, external: str, canonical: str | None = None) -> CrosswalkLink:
    """Link an external id to a canonical identity (a new one when none is given); idempotent."""
    existing = CrosswalkLink.objects.filter(object=object, system=system, external_id=str(external)).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return CrosswalkLink.objects.create(
                object=object, system=system, external_id=str(external), canonical_id=canonical or uuid.uuid4().hex
            )
    except IntegrityError:
        return CrosswalkLink.objects.get(object=object, system=system, external_id=str(external))
