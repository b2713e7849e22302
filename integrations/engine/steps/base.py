"""What a step handler returns to the runner, and helpers shared by the step kinds."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, NoReturn

from ..errors import Classification, EngineError, ErrorKind, StepFailed, TemplateFailure

Control = Literal["next", "suspend", "halt", "jump", "finish"]
_PLAIN = (str, int, bool, type(None))


class StepOutcome:
    """What a step hands back to the runner (a plain slotted class: built once per step per record)."""

    __slots__ = ("control", "detail", "jump_to", "output", "record", "replace_record", "suspend_reason")

    def __init__(
        self,
        output: Any = None,
        detail: dict[str, Any] | None = None,
        record: Any = None,  # the new current record, when the step replaces it
        replace_record: bool = False,
        control: Control = "next",
        suspend_reason: str | None = None,  # "approval" | "delivery" | "batch"
        jump_to: str | None = None,
    ):
        self.output = output
        self.detail = detail
        self.record = record
        self.replace_record = replace_record
        self.control = control
        self.suspend_reason = suspend_reason
        self.jump_to = jump_to


def fail(
    step_id: str,
    kind: ErrorKind,
    message: str,
    field: str | None = None,
    *,
    transient: bool = False,
    details: Iterable[dict[str, Any]] = (),
    retry_after: float | None = None,
) -> NoReturn:
    classification: Classification = "transient" if transient else "permanent"
    raise StepFailed(EngineError(step_id, kind, message, field, classification, tuple(details), retry_after))


def to_json(value: Any) -> Any:
    """Template results as JSON: dates become ISO strings, Decimals floats, tuples lists."""
    if value.__class__ in _PLAIN:
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number")
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return to_json(float(value))
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    raise ValueError(f"a {value.__class__.__name__} cannot be stored in a record")


def render_fields(
    step_id: str, kind: ErrorKind, templates: dict[str, Any], variables: Any, label: str
) -> dict[str, Any]:
    """{name: compiled template} rendered to JSON values (a lookup's `by`, a delivery's
    `payload`); a failure is the step's error naming `<label>.<name>`."""
    rendered = {}
    for name, template in templates.items():
        try:
            rendered[name] = to_json(template(variables))
        except (TemplateFailure, ValueError) as exc:
            fail(step_id, kind, f"{label}.{name}: {exc}", f"{label}.{name}")
    return rendered
