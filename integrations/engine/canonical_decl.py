"""Checks of the ownership and crosswalk keys a definition may carry (docs/PS_MODEL.md):
top-level `canonical.object` must name a canonical object; a deliver step's `link.object`
names what the returned id is linked to in the crosswalk — a canonical object, or another
identity a firm keeps across systems that has no canonical schema (a Kantata task standing
for a project's unfilled roles), so it only has to be a lower-case name. The runtime reads
these keys from the stored definition; the engine only checks them, so a typo in the
object is an error at save time instead of a flow that is silently not enforced."""

from __future__ import annotations

import re
from typing import Any

from ..canonical.registry import list_objects
from .errors import DefinitionError

LINK_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _unknown(name: Any) -> bool:
    return isinstance(name, str) and name not in list_objects()


def _bad_link(name: Any) -> bool:
    return isinstance(name, str) and not LINK_NAME.fullmatch(name)


def check(defn: dict[str, Any], errors: list[DefinitionError]) -> None:
    spec = defn.get("canonical")
    if isinstance(spec, dict) and _unknown(spec.get("object")):
        errors.append(DefinitionError(None, "canonical.object", _message(spec["object"])))
    steps = defn.get("steps") if isinstance(defn.get("steps"), list) else []
    for i, raw in enumerate(steps or []):
        link = raw.get("link") if isinstance(raw, dict) else None
        if isinstance(link, dict) and _bad_link(link.get("object")):
            message = "must be a lower-case name (letters, digits, _), e.g. a canonical object"
            errors.append(DefinitionError(raw.get("id"), f"steps[{i}].link.object", message))


def _message(name: str) -> str:
    return f"there is no canonical object {name!r}; known: {', '.join(list_objects())}"
