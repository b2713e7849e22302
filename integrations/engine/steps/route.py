"""`route`: select which later steps run.

`first-match` selects the `to` of the first rule whose `when` holds; `all-matches` the union
of every matching rule's `to`; with no match, `otherwise` (which may be absent: nothing
selected). Every step named by a route's rules or `otherwise` runs only if that route
selected it (see docs/FLOW_DEFINITION.md); the runner enforces this via `gated_by`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..conditions import CompiledCondition
from ..context import RunContext
from ..errors import TemplateFailure
from ..where import Where
from .base import StepOutcome, fail


@dataclass(frozen=True)
class Rule:
    name: str
    when: CompiledCondition
    to: tuple[str, ...]


@dataclass(frozen=True)
class RouteSpec:
    mode: str
    rules: tuple[Rule, ...]
    otherwise: tuple[str, ...]

    @property
    def targets(self) -> set[str]:
        return {t for rule in self.rules for t in rule.to} | set(self.otherwise)


def _targets(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def compile_step(raw: dict[str, Any], where: Where) -> RouteSpec | None:
    rules = []
    for i, rule in enumerate(raw.get("rules") or []):
        when = where.at("rules").at(i).condition("when", rule.get("when"))
        if when is not None:
            rules.append(Rule(rule["name"], when, _targets(rule.get("to"))))
    names = [r.get("name") for r in raw.get("rules") or []]
    for i, name in enumerate(names):
        if name in names[:i]:
            where.at("rules").at(i).error("name", f"rule name {name!r} is used twice")
    if len(rules) != len(raw.get("rules") or []):
        return None
    return RouteSpec(raw.get("mode", "first-match"), tuple(rules), _targets(raw.get("otherwise")))


def execute(step: Any, ctx: RunContext, effects: Any) -> StepOutcome:
    spec: RouteSpec = step.spec
    variables = ctx.variables()
    matched: list[Rule] = []
    for i, rule in enumerate(spec.rules):
        try:
            holds = rule.when(variables)
        except TemplateFailure as exc:
            fail(step.id, "rule", f"rule {rule.name!r}: {exc}", f"rules[{i}].when")
        if holds:
            matched.append(rule)
            if spec.mode == "first-match":
                break
    selected = [t for rule in matched for t in rule.to] if matched else list(spec.otherwise)
    selected = list(dict.fromkeys(selected))
    ctx.routes[step.id] = selected
    names = [r.name for r in matched] or (["otherwise"] if spec.otherwise else [])
    return StepOutcome(output={"matched": names, "selected": selected})
