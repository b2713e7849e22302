"""Crosswalk reads of one chunk, a snapshot taken once: the chunk's records are read against
the links as they were when it first needed them.

A page of time entries names hundreds of consultants and projects (two reads per entry, each a
round trip: most of a chunk's time). So the first read of an (object, system) loads all its
links in one query when there are at most LINKS_AT_ONCE of them (a firm's consultants and
projects); beyond that each external id is read once and kept."""

from integrations.crosswalk.models import CrosswalkLink

LINKS_AT_ONCE = 5_000


class ChunkLinks:
    def __init__(self, read_one):
        self._read_one = read_one  # (object, system, external_id) -> canonical id or None
        self._tables: dict[tuple[str, str], dict[str, str] | None] = {}  # None: too many to load
        self._one: dict[tuple[str, str, str], str | None] = {}

    def canonical_id(self, object: str, system: str, external_id) -> str | None:
        ident = str(external_id)
        if (object, system) not in self._tables:
            self._tables[(object, system)] = _all_links(object, system)
        table = self._tables[(object, system)]
        if table is not None:
            return table.get(ident)
        key = (object, system, ident)
        if key not in self._one:
            self._one[key] = self._read_one(object, system, ident)
        return self._one[key]


def _all_links(object: str, system: str) -> dict[str, str] | None:
    rows = list(
        CrosswalkLink.objects.filter(object=object, system=system)
        .order_by()
        .values_list("external_id", "canonical_id")[: LINKS_AT_ONCE + 1]
    )
    return dict(rows) if len(rows) <= LINKS_AT_ONCE else None
