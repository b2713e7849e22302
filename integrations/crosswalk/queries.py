"""Reads for the crosswalk pages: one row per canonical id, a column per system.

Filters: `q` (a canonical id or any system's id), `missing` (a system the record has no id
in), `conflict` (the record is one side of a match waiting for review) and `orphan` (linked
in one system only: nothing to keep in step with). Pages are keyset pages on canonical id."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Q

from integrations.crosswalk.models import CrosswalkLink, MatchCandidate, ReviewStatus


@dataclass(frozen=True)
class Filters:
    q: str = ""
    missing: str = ""
    conflict: bool = False
    orphan: bool = False


def systems_of(object: str) -> list[str]:
    links = CrosswalkLink.objects.filter(object=object).order_by("system")
    return list(links.values_list("system", flat=True).distinct())


def object_counts() -> dict[str, int]:
    rows = CrosswalkLink.objects.values("object").annotate(n=Count("canonical_id", distinct=True))
    return {row["object"]: row["n"] for row in rows.order_by("object")}


def _ids(object: str, filters: Filters):
    links = CrosswalkLink.objects.filter(object=object)
    if filters.q:
        links = links.filter(
            canonical_id__in=links.filter(Q(canonical_id=filters.q) | Q(external_id=filters.q)).values("canonical_id")
        )
    if filters.missing:
        links = links.exclude(
            canonical_id__in=CrosswalkLink.objects.filter(object=object, system=filters.missing).values("canonical_id")
        )
    if filters.conflict:
        pending = MatchCandidate.objects.filter(object=object, status=ReviewStatus.PENDING)
        ids = set(pending.values_list("canonical_id", flat=True)) | set(pending.values_list("candidate_id", flat=True))
        links = links.filter(canonical_id__in=ids)
    ids = links.order_by("canonical_id").values("canonical_id")
    if filters.orphan:
        ids = ids.annotate(systems=Count("system")).filter(systems=1)
    return ids.distinct().values_list("canonical_id", flat=True)


def page(object: str, filters: Filters, after: str = "", size: int = 50) -> tuple[list[str], str]:
    """(canonical ids of one page, cursor of the next page or '')."""
    ids = _ids(object, filters)
    if after:
        ids = ids.filter(canonical_id__gt=after)
    found = list(ids[: size + 1])
    return found[:size], (found[size - 1] if len(found) > size else "")


def links_of(object: str, canonical_ids: list[str]) -> dict[str, dict[str, CrosswalkLink]]:
    rows: dict[str, dict[str, CrosswalkLink]] = {c: {} for c in canonical_ids}
    for link in CrosswalkLink.objects.filter(object=object, canonical_id__in=canonical_ids):
        rows[link.canonical_id][link.system] = link
    return rows


def every_row(object: str, filters: Filters, batch: int = 500) -> Iterator[tuple[str, dict[str, CrosswalkLink]]]:
    """All rows of a filter in keyset batches (the CSV export): one batch in memory."""
    after = ""
    while True:
        ids, after = page(object, filters, after, batch)
        yield from links_of(object, ids).items()
        if not after:
            return


def pending_reviews(object: str | None = None):
    pending = MatchCandidate.objects.filter(status=ReviewStatus.PENDING)
    return pending.filter(object=object) if object else pending
