"""Error values of the flow engine.

`DefinitionError` points at a step and field of a flow definition (save-time problems);
`EngineError` describes why one record stopped at run time and whether a retry can help."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

ErrorKind = Literal["mapping", "validation", "rule", "lookup", "delivery", "definition"]
Classification = Literal["permanent", "transient"]


@dataclass(frozen=True)
class DefinitionError:
    step_id: str | None
    field: str  # e.g. "steps[2].fields[0].from" or "trigger.cron"
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class DefinitionInvalid(ValueError):
    """Raised by `compile_flow` when the definition has errors; `.errors` lists them all."""

    def __init__(self, errors: list[DefinitionError]):
        self.errors = errors
        first = errors[0] if errors else None
        summary = f"{first.field}: {first.message}" if first else "invalid definition"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(summary + more)


@dataclass(frozen=True)
class EngineError:
    step_id: str | None
    kind: ErrorKind
    message: str
    field: str | None = None
    classification: Classification = "permanent"
    details: tuple[dict[str, Any], ...] = ()  # e.g. every schema/rule violation of a validate step
    retry_after: float | None = None  # seconds the system behind a transient failure asked us to wait

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["details"] = list(self.details)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineError:
        return cls(**{**data, "details": tuple(data.get("details") or ())})


class TemplateFailure(ValueError):
    """A template or condition could not be evaluated for this record."""


class StepFailed(Exception):
    """Raised inside a step; the runner turns it into a failed StepResult and Outcome."""

    def __init__(self, error: EngineError):
        self.error = error
        super().__init__(error.message)


class EffectError(Exception):
    """Raised by an `Effects` implementation (the runtime) when a lookup or delivery cannot be done.

    `transient=True` means a retry later may succeed (timeout, 5xx, 429); the runtime's retry
    policy decides what happens next, the engine only records the classification."""

    def __init__(self, message: str, *, transient: bool = False, retry_after: float | None = None):
        self.transient = transient
        self.retry_after = retry_after  # the target's Retry-After, for the runtime's backoff
        super().__init__(message)

    @property
    def classification(self) -> Classification:
        return "transient" if self.transient else "permanent"
