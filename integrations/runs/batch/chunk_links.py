"""Crosswalk reads of one chunk, a snapshot taken once: the chunk's records are read against
the links as they were when it first needed them.

A page of time entries names hundreds of consultants and projects (two reads per entry, each a
round trip: most of a chunk's time). So the first read of an (object, system) loads all its
links in one query when there are at most LINKS_AT_ONCE of them (a firm's consultants and
projects), and answers both ways from it: a system's id → the canonical id (a map field's
`crosswalk: {object, system}`) and a canonical id → the system's id (`crosswalk: {object, to}`).
Beyond that each id is read once and kept."""

from integrations.crosswalk.models import CrosswalkLink
from integrations.crosswalk.services import external_id as read_linked_id

LINKS_AT_ONCE = 5_000


class ChunkLinks:
    def __init__(self, read_one, read_one_linked=read_linked_id):
        self._read_one = read_one  # (object, system, external_id) -> canonical id or None
        self._read_one_linked = read_one_linked  # (object, canonical_id, system) -> the system's id or None
        # (object, system) -> ({external id: canonical id}, {canonical id: external id}); None: too many to load
        self._tables: dict[tuple[str, str], tuple[dict[str, str], dict[str, str]] | None] = {}
        self._one: dict[tuple[str, str, str, str], str | None] = {}  # (direction, object, system, id)

    def canonical_id(self, object: str, system: str, external_id) -> str | None:
        table = self._table(object, system)
        if table is not None:
            return table[0].get(str(external_id))
        return self._read("canonical", object, system, str(external_id))

    def linked_id(self, object: str, canonical_id, system: str) -> str | None:
        table = self._table(object, system)
        if table is not None:
            return table[1].get(str(canonical_id))
        return self._read("linked", object, system, str(canonical_id))

    def _table(self, object: str, system: str) -> tuple[dict[str, str], dict[str, str]] | None:
        if (object, system) not in self._tables:
            self._tables[(object, system)] = _all_links(object, system)
        return self._tables[(object, system)]

    def _read(self, direction: str, object: str, system: str, ident: str) -> str | None:
        key = (direction, object, system, ident)
        if key not in self._one:
            if direction == "canonical":
                self._one[key] = self._read_one(object, system, ident)
            else:
                self._one[key] = self._read_one_linked(object, ident, system)
        return self._one[key]


def _all_links(object: str, system: str) -> tuple[dict[str, str], dict[str, str]] | None:
    rows = list(
        CrosswalkLink.objects.filter(object=object, system=system)
        .order_by()
        .values_list("external_id", "canonical_id")[: LINKS_AT_ONCE + 1]
    )
    if len(rows) > LINKS_AT_ONCE:
        return None
    # One link per (object, system, external id) and per (object, canonical id, system): both maps are exact.
    return dict(rows), {canonical: external for external, canonical in rows}
