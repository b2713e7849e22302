"""What `run` returns: the outcome of one record and the result of each step."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .errors import EngineError

StepStatus = Literal["succeeded", "skipped", "failed", "waiting"]
RunStatus = Literal["completed", "suspended", "failed", "halted"]


@dataclass(slots=True)
class StepResult:
    step_id: str
    type: str
    status: StepStatus
    input: Any
    output: Any
    error: str | None = None
    duration_ms: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Outcome:
    status: RunStatus
    state: dict[str, Any]  # JSON-serialisable; pass back as `state=` to resume or retry
    steps: list[StepResult]
    suspended_at: str | None = None
    suspend_reason: Literal["approval", "delivery", "batch"] | None = None
    error: EngineError | None = None

    @property
    def record(self) -> Any:
        """The current record at the end (or at the suspension point)."""
        return self.state.get("record")

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "state": self.state,
            "steps": [s.as_dict() for s in self.steps],
            "suspended_at": self.suspended_at,
            "suspend_reason": self.suspend_reason,
            "error": self.error.as_dict() if self.error else None,
        }
