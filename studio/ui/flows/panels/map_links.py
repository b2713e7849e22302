"""The crosswalk links the mapping panel's lookup rows read, in one query for the whole panel
instead of one per row: a first evaluation of the crosswalk rows only notes the ids they ask
for (answering "no link"), one query reads those links, and the previews are then evaluated
with the answers. A row's ids come from its source, never from the link, so both passes ask
for the same ones."""

from functools import reduce
from operator import or_

from django.db.models import Q

from integrations.crosswalk.models import CrosswalkLink

Key = tuple[str, str, str]  # object, system, external id


class NotedLookups:
    """A crosswalk reader for the first pass: it remembers what is asked and finds nothing."""

    def __init__(self) -> None:
        self.keys: set[Key] = set()

    def __call__(self, object: str, system: str, external_id) -> None:
        self.keys.add((str(object), str(system), str(external_id)))


def links_for(keys: set[Key]):
    """A crosswalk reader answering from one query over `keys` (the canonical id, or None)."""
    found: dict[Key, str] = {}
    if keys:
        match = reduce(or_, (Q(object=o, system=s, external_id=e) for o, s, e in keys))
        rows = CrosswalkLink.objects.filter(match).values_list("object", "system", "external_id", "canonical_id")
        found = {(o, s, e): canonical for o, s, e, canonical in rows}

    def canonical_id(object: str, system: str, external_id) -> str | None:
        return found.get((str(object), str(system), str(external_id)))

    return canonical_id
