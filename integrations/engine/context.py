"""Per-record state while a plan runs; `as_state()` is what a suspended run stores."""

from __future__ import annotations

from typing import Any

from .plan import Plan


class RunContext:
    """A plain slotted class: one is built per record, so construction must be cheap."""

    __slots__ = ("dry_run", "input", "plan", "record", "routes", "steps")

    def __init__(
        self,
        plan: Plan,
        input: dict[str, Any],  # the record the run started with; never changes
        record: Any,  # the current record: replaced by map steps, extended by lookups
        steps: dict[str, Any],  # output per step id
        routes: dict[str, list[str]],  # route id -> selected step ids
        dry_run: bool = False,
    ):
        self.plan = plan
        self.input = input
        self.record = record
        self.steps = steps
        self.routes = routes
        self.dry_run = dry_run

    @classmethod
    def start(cls, plan: Plan, record: dict[str, Any], state: dict[str, Any] | None, dry_run: bool) -> RunContext:
        if not state:
            return cls(plan, record, record, {}, {}, dry_run)
        routes = {k: list(v) for k, v in (state.get("routes") or {}).items()}
        return cls(plan, record, state.get("record", record), dict(state.get("steps") or {}), routes, dry_run)

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
