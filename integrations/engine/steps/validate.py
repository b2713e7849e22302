"""`validate`: check the current record against a canonical object schema and rule checks.

A rule `{when, message, field}` reports `message` when `when` holds (when describes the
problem, e.g. `record.end_date < record.start_date`); a rule that cannot be evaluated on
this record (a missing or null field) is reported as a violation too. All violations are
collected and reported together in one validation error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...canonical.registry import CanonicalValidator, exists, list_objects, validator_for
from ..conditions import CompiledCondition
from ..context import RunContext
from ..errors import TemplateFailure
from ..where import Where
from .base import StepOutcome, fail


@dataclass(frozen=True)
class RuleCheck:
    when: CompiledCondition
    message: str
    field: str


@dataclass(frozen=True)
class ValidateSpec:
    schema: str | None
    validator: CanonicalValidator | None
    rules: tuple[RuleCheck, ...]


def compile_step(raw: dict[str, Any], where: Where) -> ValidateSpec | None:
    schema, rules = raw.get("schema"), raw.get("rules") or []
    if not schema and not rules:
        where.error(None, "a validate step needs a schema, rules, or both")
        return None
    if schema and not exists(schema):
        where.error("schema", f"there is no canonical object {schema}; known: {', '.join(list_objects())}")
        return None
    checks = []
    for i, rule in enumerate(rules):
        when = where.at("rules").at(i).condition("when", rule.get("when"))
        if when is None:
            return None
        checks.append(RuleCheck(when, rule["message"], rule.get("field", "")))
    return ValidateSpec(schema, validator_for(schema) if schema else None, tuple(checks))


def execute(step: Any, ctx: RunContext, effects: Any) -> StepOutcome:
    spec: ValidateSpec = step.spec
    problems: list[dict[str, str]] = []
    if spec.validator is not None:
        problems += [{"field": v.field, "message": v.message} for v in spec.validator.violations(ctx.record)]
    if spec.rules:
        variables = ctx.variables()
        for rule in spec.rules:
            try:
                if rule.when(variables):
                    problems.append({"field": rule.field, "message": rule.message})
            except TemplateFailure as exc:  # the record lacks what the rule needs: a problem of the record
                problems.append({"field": rule.field, "message": f"{rule.message} (could not be checked: {exc})"})
    if problems:
        listed = "; ".join(f"{p['field']}: {p['message']}" if p["field"] else p["message"] for p in problems)
        what = spec.schema or "the rules"
        fail(
            step.id,
            "validation",
            f"{len(problems)} problem(s) against {what}: {listed}",
            problems[0]["field"] or None,
            details=problems,
        )
    return StepOutcome(output={"valid": True, "schema": spec.schema, "rules_checked": len(spec.rules)})
