"""The compiled form of a flow definition: what `compile_flow` returns and `run` executes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .conditions import CompiledCondition


@dataclass(frozen=True, eq=False, slots=True)  # slots: the runner reads its fields once per record
class CompiledStep:
    id: str
    type: str
    index: int
    raw: dict[str, Any]  # the step as written, for display and for the runtime's own settings
    when: CompiledCondition | None
    gated_by: str | None  # id of the route step that must select this step, if any
    spec: Any  # kind-specific compiled form (see integrations/engine/steps/)
    execute: Any = field(repr=False)  # the kind's execute(step, ctx, effects)
    transform: Any = field(repr=False, default=None)  # map steps: record -> new record, the runner's fast path
    # evaluates templates or conditions: the runner gives it a template time budget (see limits.py)
    renders: bool = True

    @property
    def name(self) -> str:
        return self.raw.get("name") or self.id


@dataclass(frozen=True, eq=False)
class Plan:
    trigger: dict[str, Any]
    steps: tuple[CompiledStep, ...]
    value_maps: dict[str, dict[str, Any]]
    content_hash: str
    _by_id: dict[str, CompiledStep] = field(repr=False, default_factory=dict)

    mapping_only: bool = False  # every step is an unconditional map: run() takes its straight-line path

    def __post_init__(self) -> None:
        self._by_id.update({s.id: s for s in self.steps})
        only_maps = all(s.transform is not None and s.when is None and s.gated_by is None for s in self.steps)
        object.__setattr__(self, "mapping_only", only_maps)

    @property
    def first_step_id(self) -> str:
        return self.steps[0].id

    def step(self, step_id: str) -> CompiledStep:
        try:
            return self._by_id[step_id]
        except KeyError:
            raise KeyError(f"this flow has no step {step_id!r}") from None

    def step_ids(self) -> list[str]:
        return [s.id for s in self.steps]
