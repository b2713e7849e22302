"""Checks of the ownership and crosswalk keys a definition may carry (docs/PS_MODEL.md):
top-level `canonical.object` and a deliver step's `link.object` must name canonical
objects. The runtime reads these keys from the stored definition; the engine only checks
them, so a typo is an error at save time instead of a flow that is silently not enforced."""

from __future__ import annotations

from typing import Any

from ..canonical.registry import list_objects
from .errors import DefinitionError


def _unknown(name: Any) -> bool:
    return isinstance(name, str) and name not in list_objects()


def check(defn: dict[str, Any], errors: list[DefinitionError]) -> None:
    spec = defn.get("canonical")
    if isinstance(spec, dict) and _unknown(spec.get("object")):
        errors.append(DefinitionError(None, "canonical.object", _message(spec["object"])))
    steps = defn.get("steps") if isinstance(defn.get("steps"), list) else []
    for i, raw in enumerate(steps or []):
        link = raw.get("link") if isinstance(raw, dict) else None
        if isinstance(link, dict) and _unknown(link.get("object")):
            errors.append(DefinitionError(raw.get("id"), f"steps[{i}].link.object", _message(link["object"])))


def _message(name: str) -> str:
    return f"there is no canonical object {name!r}; known: {', '.join(list_objects())}"
