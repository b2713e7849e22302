"""`map`: build a new record field by field.

Per field: take the source (`from` JSONPath on the current record, or `constant`), apply
`template`, `value_map` and `crosswalk` when a value is present and not null, fall back to
`default` when it is missing or null, convert to `type`, and fail if `required` and still
missing or null. Without a default, a missing source leaves the output field out and a null
source writes null.

Each step compiles to one generated Python function: plain-path fields become inline
subscripts (no call per field), other fields call a closure. The generated code embeds
only `repr()` of keys, indexes and field numbers, never analyst expressions."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...canonical.registry import exists as canonical_exists
from ...canonical.registry import list_objects
from ..coercion import COERCIONS
from ..context import RunContext
from ..errors import StepFailed, TemplateFailure
from ..filters import NO_FALLBACK, map_value
from ..paths import MISSING, PathError, simple_tokens, subscript_code
from ..where import Where
from .base import StepOutcome, fail, to_json

Getter = Callable[[Any], Any]

# A crosswalk's system is a connection's name (Connection.name is a slug of at most 64).
SYSTEM_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class CrosswalkPlan:
    """`{"object", "system"}`: the system's id → the canonical id linked to it;
    `{"object", "to"}`: the canonical id → the id `to` has for it. `optional`: no link leaves
    the value missing (then `default` and `required` apply) instead of failing the record."""

    object: str
    system: str
    to_system: bool
    optional: bool


@dataclass(frozen=True)
class FieldPlan:
    index: int
    to: str
    source: str | None
    getter: Getter | None
    constant: Any
    template: Any
    value_map: str | None
    crosswalk: CrosswalkPlan | None
    default: Any
    required: bool
    coerce: Callable[[Any], Any] | None

    @property
    def is_typed_plain(self) -> bool:
        """A plain path converted by `type`: inlined too, calling only the converter."""
        return (
            self.source is not None
            and simple_tokens(self.source) is not None
            and self.template is None
            and self.value_map is None
            and self.crosswalk is None
            and self.coerce is not None
        )

    @property
    def is_plain(self) -> bool:
        """Only a plain path (+ default / required): inlined in generated code."""
        return (
            self.source is not None
            and simple_tokens(self.source) is not None
            and self.template is None
            and self.value_map is None
            and self.crosswalk is None
            and self.coerce is None
        )


@dataclass(frozen=True)
class MapSpec:
    target: str | None
    merge: bool
    fields: tuple[FieldPlan, ...]
    function: Callable[[Any, Any, Any], dict[str, Any]]
    source: str  # the generated code, kept for debugging
    needs_context: bool  # plain-path fields read only the record; any other field needs the RunContext

    @property
    def transform(self) -> Callable[[Any, Any, Any], dict[str, Any]] | None:
        """Lets the runner call the generated function directly when no step detail is needed."""
        return None if self.target else self.function


def compile_step(raw: dict[str, Any], where: Where) -> MapSpec | None:
    errors_before = len(where.errors)
    target = raw.get("target")
    if target and not canonical_exists(target):
        where.error("target", f"there is no canonical object {target}; known: {', '.join(list_objects())}")
    fields = []
    for i, field in enumerate(raw.get("fields") or []):
        plan = _compile_field(i, field, where.at("fields").at(i), raw)
        if plan is not None:
            fields.append(plan)
    _check_targets(fields, where)
    if len(where.errors) > errors_before:
        return None
    function, source = _generate(raw["id"], fields, bool(raw.get("merge")))
    needs_context = not all(plan.is_plain or plan.is_typed_plain for plan in fields)
    return MapSpec(target, bool(raw.get("merge")), tuple(fields), function, source, needs_context)


def _compile_field(i: int, field: dict[str, Any], where: Where, raw: dict[str, Any]) -> FieldPlan | None:
    errors_before = len(where.errors)
    if not any(k in field for k in ("from", "template", "constant", "default")):
        where.error(None, "a field needs a source: from, template, constant or default")
    if "from" in field and "constant" in field:
        where.error("constant", "use either from or constant, not both")
    getter = where.path("from", field["from"]) if "from" in field else None
    template = where.template("template", field["template"]) if "template" in field else None
    xwalk = _crosswalk_plan(field.get("crosswalk"), where)
    if len(where.errors) > errors_before:
        return None
    return FieldPlan(
        index=i,
        to=field["to"],
        source=field.get("from"),
        getter=getter,
        constant=field.get("constant", MISSING),
        template=template,
        value_map=field.get("value_map"),
        crosswalk=xwalk,
        default=field.get("default"),
        required=bool(field.get("required")),
        coerce=COERCIONS.get(field.get("type", "")),
    )


def _crosswalk_plan(raw: Any, where: Where) -> CrosswalkPlan | None:
    if not raw:
        return None
    obj = raw.get("object")
    if obj not in list_objects():
        where.error("crosswalk.object", f"there is no canonical object {obj!r}; known: {', '.join(list_objects())}")
    if ("system" in raw) == ("to" in raw):
        both = "not both" if "system" in raw else "one of them"
        where.error("crosswalk", f"give system (its id → the canonical id) or to (the canonical id → its id), {both}")
        return None
    key = "system" if "system" in raw else "to"
    system = raw[key]
    if not isinstance(system, str) or not SYSTEM_NAME.fullmatch(system):
        where.error(f"crosswalk.{key}", f"{system!r} is not a connection name (letters, digits, - and _)")
    return CrosswalkPlan(str(obj), str(system), key == "to", bool(raw.get("optional")))


def _check_targets(fields: list[FieldPlan], where: Where) -> None:
    seen: dict[str, int] = {}
    for plan in fields:
        if plan.to in seen:
            where.at("fields").at(plan.index).error("to", f"{plan.to!r} is already set by fields[{seen[plan.to]}]")
        seen[plan.to] = plan.index
    # Each target under each of its parents (a.b.c under "a" and "a.b"), so a field that would
    # overwrite a parent object is found by one lookup, not by comparing every pair of fields.
    nested: dict[str, list[str]] = {}
    for other in seen:
        parts = other.split(".")
        for cut in range(1, len(parts)):
            nested.setdefault(".".join(parts[:cut]), []).append(other)
    for plan in fields:
        for other in nested.get(plan.to, ()):
            where.at("fields").at(plan.index).error("to", f"{plan.to!r} would overwrite the object holding {other!r}")


def check_value_maps(raw: dict[str, Any], value_maps: dict[str, Any], where: Where) -> None:
    for i, field in enumerate(raw.get("fields") or []):
        name = field.get("value_map")
        if name and name not in value_maps:
            known = ", ".join(sorted(value_maps)) or "none defined"
            where.at("fields").at(i).error("value_map", f"there is no value map {name!r} (value_maps: {known})")


# ---- code generation --------------------------------------------------------------------


def _generate(step_id: str, fields: list[FieldPlan], merge: bool) -> tuple[Callable[..., Any], str]:
    namespace: dict[str, Any] = {"_deepcopy": copy.deepcopy, "_put": _put, "_MISSING": MISSING}
    body = _start_code(fields, merge)
    prefixes = _shared_prefixes(fields)
    for n, prefix in enumerate(prefixes):
        # a shared parent object is looked up once; None makes every field under it missing
        body += ["try:", *("    " + line for line in subscript_code(f"_p{n}", "record", list(prefix)))]
        body += ["except (LookupError, TypeError):", f"    _p{n} = None"]
    for plan in fields:
        body += _field_code(step_id, plan, namespace, prefixes)
    body.append("return out")
    source = "def _careful(record, ctx, effects):\n" + "\n".join("    " + line for line in body) + "\n"
    if not merge and all(plan.is_plain and "." not in plan.to for plan in fields):
        source += _optimistic_code(fields, prefixes)
    else:
        source += "_map = _careful\n"
    exec(compile(source, f"<map step {step_id}>", "exec"), namespace)  # noqa: S102 - generated from validated keys only
    return namespace["_map"], source


def _from_prefix(tokens: list[Any], prefixes: list[tuple[Any, ...]]) -> tuple[str, list[Any]]:
    """Start a lookup from the longest already-computed prefix variable (optimistic path only)."""
    for cut in range(len(tokens) - 1, 0, -1):
        if tuple(tokens[:cut]) in prefixes:
            return f"_p{prefixes.index(tuple(tokens[:cut]))}", tokens[cut:]
    return "record", tokens


def _optimistic_code(fields: list[FieldPlan], prefixes: list[tuple[Any, ...]]) -> str:
    """A path-only step first tries one dict literal, as a hand-written mapping would; a
    missing key, a wrong type, or a null where a default or `required` applies sends the
    record to `_careful`, which handles each field on its own."""
    body = []
    for n, prefix in enumerate(prefixes):
        body += subscript_code(f"_p{n}", *_from_prefix(list(prefix), prefixes[:n]))
    items = []
    for plan in fields:
        tokens = simple_tokens(plan.source or "$") or []
        source = "record"
        if len(tokens) >= 2 and tuple(tokens[:-1]) in prefixes:
            source, tokens = f"_p{prefixes.index(tuple(tokens[:-1]))}", tokens[-1:]
        lines = subscript_code(f"_t{plan.index}", source, tokens)
        if len(lines) == 1 and plan.default is None and not plan.required:
            items.append(f"{plan.to!r}: {lines[0].split(' = ', 1)[1]}")
        else:
            body += lines
            if plan.default is not None or plan.required:  # a null here needs the careful path
                body.append(f"if _t{plan.index} is None: raise TypeError")
            items.append(f"{plan.to!r}: _t{plan.index}")
    body.append("out = {" + ", ".join(items) + "}")
    code = ["def _map(record, ctx, effects):", "    try:", *("        " + line for line in body)]
    code += ["    except (LookupError, TypeError):", "        return _careful(record, ctx, effects)"]
    code += ["    return out"]
    return "\n".join(code) + "\n"


def _start_code(fields: list[FieldPlan], merge: bool) -> list[str]:
    if not merge:
        return ["out = {}"]
    # records are never mutated: copy the record shallowly, and deeply only the objects written into
    lines = ["out = dict(record) if record.__class__ is dict else {}"]
    for key in sorted({plan.to.split(".")[0] for plan in fields if "." in plan.to}):
        lines += [f"if {key!r} in out:", f"    out[{key!r}] = _deepcopy(out[{key!r}])"]
    return lines


def _shared_prefixes(fields: list[FieldPlan]) -> list[tuple[Any, ...]]:
    counts: dict[tuple[Any, ...], int] = {}
    for plan in fields:
        tokens = simple_tokens(plan.source or "$") if plan.is_plain else None
        if tokens and len(tokens) >= 2:
            counts[tuple(tokens[:-1])] = counts.get(tuple(tokens[:-1]), 0) + 1
    return [prefix for prefix, count in counts.items() if count >= 2]


def _assign(plan: FieldPlan, value: str) -> str:
    keys = plan.to.split(".")
    return f"out[{keys[0]!r}] = {value}" if len(keys) == 1 else f"_put(out, {keys!r}, {value})"


def _field_code(step_id: str, plan: FieldPlan, namespace: dict[str, Any], prefixes: list[tuple[Any, ...]]) -> list[str]:
    i = plan.index
    if not plan.is_plain and not plan.is_typed_plain:
        namespace[f"_f{i}"] = _field_closure(step_id, plan)
        return [f"v = _f{i}(record, ctx, effects)", "if v is not _MISSING:", "    " + _assign(plan, "v")]
    tokens = simple_tokens(plan.source or "$") or []
    source = "record"
    if len(tokens) >= 2 and tuple(tokens[:-1]) in prefixes:
        source, tokens = f"_p{prefixes.index(tuple(tokens[:-1]))}", tokens[-1:]
    lines = ["try:", *("    " + line for line in subscript_code("v", source, tokens))]
    if plan.is_typed_plain:
        return lines + _typed_code(step_id, plan, namespace)
    fallback = plan.default is not None or plan.required
    present = "if v is not _MISSING and v is not None:" if fallback else "if v is not _MISSING:"
    lines += ["except (LookupError, TypeError):", "    v = _MISSING", present, "    " + _assign(plan, "v")]
    if plan.default is not None:
        namespace[f"_d{i}"] = plan.default
        copy_default = f"_deepcopy(_d{i})" if isinstance(plan.default, dict | list) else f"_d{i}"
        lines += ["else:", "    " + _assign(plan, copy_default)]
    elif plan.required:
        namespace[f"_missing{i}"] = _missing_raiser(step_id, plan)
        lines += ["else:", f"    _missing{i}()"]
    return lines


def _typed_code(step_id: str, plan: FieldPlan, namespace: dict[str, Any]) -> list[str]:
    """After the path lookup: default or required for missing/null, then the `type` converter
    (same order and messages as `_evaluate`)."""
    i = plan.index
    namespace[f"_co{i}"] = plan.coerce
    namespace[f"_bad{i}"] = _coerce_failure(step_id, plan)
    lines = ["except (LookupError, TypeError):", "    v = _MISSING"]
    if plan.default is not None:
        namespace[f"_d{i}"] = plan.default
        default = f"_deepcopy(_d{i})" if isinstance(plan.default, dict | list) else f"_d{i}"
        lines += ["if v is _MISSING or v is None:", f"    v = {default}"]
    elif plan.required:
        namespace[f"_missing{i}"] = _missing_raiser(step_id, plan)
        lines += ["if v is _MISSING or v is None:", f"    _missing{i}()"]
    lines += ["if v is not _MISSING:", "    if v is not None:", "        try:", f"            v = _co{i}(v)"]
    lines += [
        "        except (ValueError, TypeError) as exc:",
        f"            _bad{i}(exc)",
        "    " + _assign(plan, "v"),
    ]
    return lines


def _coerce_failure(step_id: str, plan: FieldPlan) -> Callable[[Exception], None]:
    def failed(exc: Exception) -> None:
        fail(step_id, "mapping", f"{plan.to}: {exc}", plan.to)

    return failed


def _put(out: dict[str, Any], keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        nxt = out.get(key)
        if nxt.__class__ is not dict:
            nxt = out[key] = {}
        out = nxt
    out[keys[-1]] = value


def _missing_raiser(step_id: str, plan: FieldPlan) -> Callable[[], None]:
    where = f" (from {plan.source})" if plan.source else ""

    def missing() -> None:
        fail(step_id, "mapping", f"{plan.to} is required but missing{where}", plan.to)

    return missing


def _field_closure(step_id: str, plan: FieldPlan) -> Callable[[Any, RunContext, Any], Any]:
    def evaluate(record: Any, ctx: RunContext, effects: Any) -> Any:
        try:
            return _evaluate(plan, record, ctx, effects)
        except _RequiredMissing:
            _missing_raiser(step_id, plan)()
        except StepFailed:
            raise
        except (TemplateFailure, PathError, ValueError, TypeError) as exc:
            fail(step_id, "mapping", f"{plan.to}: {exc}", plan.to)

    return evaluate


def _evaluate(plan: FieldPlan, record: Any, ctx: RunContext, effects: Any) -> Any:
    """The field's value; MISSING leaves it out of the output, None writes a null."""
    if plan.getter is not None:
        value = plan.getter(record)
    elif plan.constant is not MISSING:
        value = copy.deepcopy(plan.constant) if isinstance(plan.constant, dict | list) else plan.constant
    else:
        value = None  # a template-only field computes from record, input and steps
    has_source = plan.getter is not None or plan.constant is not MISSING
    if plan.template is not None and (not has_source or (value is not MISSING and value is not None)):
        value = to_json(plan.template(ctx.variables(value=value)))
    present = value is not MISSING and value is not None
    if present and plan.value_map:
        fallback = plan.default if plan.default is not None else NO_FALLBACK
        value = map_value(ctx.plan.value_maps, plan.value_map, value, fallback)
    if present and plan.crosswalk:
        value = _crosswalk(plan.crosswalk, value, effects)
        present = value is not MISSING
    if not present and plan.default is not None:
        value = copy.deepcopy(plan.default)
    if plan.coerce is not None and value is not MISSING and value is not None:
        value = plan.coerce(value)
    if plan.required and (value is MISSING or value is None):
        raise _RequiredMissing
    return value


class _RequiredMissing(Exception):
    pass


def _crosswalk(xwalk: CrosswalkPlan, value: Any, effects: Any) -> Any:
    """The linked id; MISSING for an optional crosswalk without a link."""
    if isinstance(value, dict | list):
        raise ValueError(f"a crosswalk needs a single id, got {'a list' if isinstance(value, list) else 'an object'}")
    if xwalk.to_system:
        linked = effects.linked_id(xwalk.object, str(value), xwalk.system)
        missing = f"{xwalk.object} {value!r} has no {xwalk.system} id in the crosswalk"
    else:
        linked = effects.crosswalk(xwalk.object, xwalk.system, str(value))
        missing = f"no {xwalk.object} is linked to {xwalk.system} id {value!r} in the crosswalk"
    if linked is not None:
        return str(linked)
    if xwalk.optional:
        return MISSING
    raise ValueError(missing)


def execute(step: Any, ctx: RunContext, effects: Any) -> StepOutcome:
    spec: MapSpec = step.spec
    out = spec.function(ctx.record, ctx, effects)
    return StepOutcome(out, {"target": spec.target} if spec.target else None, out, True)
