"""Per-record state while a plan runs; `as_state()` is what a suspended run stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .plan import Plan


@dataclass
class RunContext:
    plan: Plan
    input: dict[str, Any]  # the record the run started with; never changes
    record: Any  # the current record: replaced by map steps, extended by lookups
    steps: dict[str, Any] = field(default_factory=dict)  # output per step id
    routes: dict[str, list[str]] = field(default_factory=dict)  # route id -> selected step ids
    dry_run: bool = False

    @classmethod
    def start(cls, plan: Plan, record: dict[str, Any], state: dict[str, Any] | None, dry_run: bool) -> RunContext:
        state = state or {}
        return cls(
            plan=plan,
            input=record,
            record=state.get("record", record),
            steps=dict(state.get("steps") or {}),
            routes={k: list(v) for k, v in (state.get("routes") or {}).items()},
            dry_run=dry_run,
        )

    def variables(self, **extra: Any) -> dict[str, Any]:
        """What templates and conditions see: record, input, steps, value_maps (+ value in map fields)."""
        return {
            "record": self.record,
            "input": self.input,
            "steps": self.steps,
            "value_maps": self.plan.value_maps,
            **extra,
        }

    def selected(self, route_id: str, step_id: str) -> bool:
        return step_id in self.routes.get(route_id, ())

    def as_state(self) -> dict[str, Any]:
        return {"record": self.record, "steps": self.steps, "routes": self.routes}
