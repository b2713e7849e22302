"""The JSON Schema half of save-time validation: every schema error of a flow definition,
each naming the step and the field (`steps[2].fields[0].from`, `trigger.cron`) so the editor
can point at it. The semantic checks, and `validate_definition` which joins both, are in
compile.py."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from .errors import DefinitionError

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "flow-definition.schema.json"
_REQUIRED = re.compile(r"^'(?P<name>[^']+)' is a required property")


@cache
def definition_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(definition_schema())


def field_path(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _step_id(defn: dict[str, Any], path: list[Any]) -> str | None:
    if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
        steps = defn.get("steps")
        step = steps[path[1]] if isinstance(steps, list) and path[1] < len(steps) else None
        step_id = step.get("id") if isinstance(step, dict) else None
        return step_id if isinstance(step_id, str) else None
    return None


def _to_error(defn: dict[str, Any], err: ValidationError) -> DefinitionError:
    path = list(err.absolute_path)
    message = err.message
    if err.validator == "required" and (match := _REQUIRED.match(message)):
        path.append(match["name"])
        message = "is required"
    elif err.validator in ("oneOf", "anyOf") and err.context:
        message = best_match(err.context).message
    return DefinitionError(_step_id(defn, path), field_path(path) or "definition", message)


def schema_errors(defn: Any) -> list[DefinitionError]:
    if not isinstance(defn, dict):
        return [DefinitionError(None, "definition", "a flow definition is a JSON object")]
    found = sorted(_validator().iter_errors(defn), key=lambda e: [str(p) for p in e.absolute_path])
    return [_to_error(defn, err) for err in found]
