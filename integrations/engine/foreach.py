"""`for_each`: the definition option that makes a flow a batch flow (one run, many records).

The engine itself still runs one record at a time; this module only checks the option at
save time and reads the list of records out of a run's input. The runtime
(integrations.runs.batch) splits that list into chunks and runs the plan per record."""

from __future__ import annotations

from typing import Any

from .errors import DefinitionError
from .paths import MISSING, PathError, compile_path

DEFAULT_CHUNK_SIZE = 500
# An approval per record of a 10,000-record run is not a workflow anyone can work.
NOT_IN_BATCH_FLOWS = {"approve": "approve steps are not supported in a for_each flow (one approval per record)"}


def check(defn: dict[str, Any], errors: list[DefinitionError]) -> None:
    spec = defn.get("for_each")
    if not isinstance(spec, dict):
        return
    if isinstance(spec.get("path"), str):
        try:
            compile_path(spec["path"])
        except PathError as exc:
            errors.append(DefinitionError(None, "for_each.path", str(exc)))
    steps: list[Any] = defn["steps"] if isinstance(defn.get("steps"), list) else []
    batches = 0
    for i, raw in enumerate(steps):
        kind = raw.get("type") if isinstance(raw, dict) else None
        step_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
        if kind in NOT_IN_BATCH_FLOWS:
            errors.append(DefinitionError(step_id, f"steps[{i}].type", NOT_IN_BATCH_FLOWS[kind]))
        if kind == "batch":
            batches += 1
            if batches > 1:
                message = "a for_each flow groups its records once: only one batch step is allowed"
                errors.append(DefinitionError(step_id, f"steps[{i}].type", message))


def chunk_size(defn: dict[str, Any]) -> int:
    size = (defn.get("for_each") or {}).get("chunk_size")
    return int(size) if isinstance(size, int) and size > 0 else DEFAULT_CHUNK_SIZE


def is_batch_flow(defn: Any) -> bool:
    return isinstance(defn, dict) and isinstance(defn.get("for_each"), dict)


def records_of(defn: dict[str, Any], data: Any) -> list[Any]:
    """The list at `for_each.path` of a run's input; ValueError naming the path otherwise."""
    path = defn["for_each"]["path"]
    found = compile_path(path)(data)
    if found is MISSING or found is None:
        raise ValueError(f"for_each.path: the input has nothing at {path}")
    if not isinstance(found, list):
        raise ValueError(f"for_each.path: {path} is a {type(found).__name__}, not a list of records")
    return found
