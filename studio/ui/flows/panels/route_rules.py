"""Route conditions as the analyst builds them ↔ the condition text the engine runs.

A branch's condition is a group: clauses (field, operator, value) joined by AND or OR, and
groups of clauses one level down (two levels in all). `to_text` writes the engine's condition
(`record.region == 'EMEA' and (record.amount > 100 or record.vip == true)`); `parse` reads
back what `to_text` writes, so a saved route opens in the builder again. A condition written
some other way (by hand, imported) is kept as text and shown as such."""

import ast
import re
from dataclasses import dataclass, field

REF = re.compile(r"^(record|input)(\.[A-Za-z_][A-Za-z0-9_]*)+$")
# key → (label, the field types it applies to; () = every type)
OPERATORS = {
    "==": ("is", ()),
    "!=": ("is not", ()),
    ">": ("greater than / after", ("number", "integer", "date", "datetime", "")),
    ">=": ("at least / on or after", ("number", "integer", "date", "datetime", "")),
    "<": ("less than / before", ("number", "integer", "date", "datetime", "")),
    "<=": ("at most / on or before", ("number", "integer", "date", "datetime", "")),
    "in": ("is one of", ("string", "number", "integer", "")),
    "not in": ("is not one of", ("string", "number", "integer", "")),
    "contains": ("contains", ("string", "array", "")),
    "set": ("has a value", ()),
    "empty": ("is empty or missing", ()),
    "true": ("is true", ("boolean", "")),
    "false": ("is false", ("boolean", "")),
}
NO_VALUE = {"set", "empty", "true", "false"}
MAX_ITEMS = 20


@dataclass
class Clause:
    field: str = ""
    op: str = "=="
    value: str = ""  # as typed: a list is "a, b"
    is_group = False


@dataclass
class Group:
    join: str = "and"
    items: list = field(default_factory=list)  # Clause | Group (a nested group holds clauses only)
    is_group = True


def operators_for(field_type: str) -> list[tuple[str, str]]:
    return [(key, label) for key, (label, types) in OPERATORS.items() if not types or field_type in types]


# ---- builder → text ----------------------------------------------------------------------


def literal(text: str, field_type: str) -> tuple[str, str]:
    """(condition literal, '') or ('', why not) for one typed value."""
    text = text.strip()
    if field_type in ("number", "integer") or (field_type == "" and re.fullmatch(r"-?\d+(\.\d+)?", text)):
        if not re.fullmatch(r"-?\d{1,30}(\.\d{1,30})?", text):
            return "", f"“{text[:40]}” is not a number"
        return text, ""
    if "\n" in text or "\r" in text:
        return "", "a value is one line"
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'", ""


def clause_text(clause: Clause, field_type: str) -> tuple[str, str]:
    ref, op = clause.field, clause.op
    if not REF.match(ref):
        return "", "pick a field"
    if op not in OPERATORS:
        return "", "pick an operator"
    if op == "set":
        return f"{ref} | default('') != ''", ""
    if op == "empty":
        return f"{ref} | default('') == ''", ""
    if op in ("true", "false"):
        return f"{ref} == {op}", ""
    if not clause.value.strip():
        return "", "enter a value"
    if op in ("in", "not in"):
        parts = [literal(v, field_type) for v in clause.value.split(",") if v.strip()]
        problem = next((p for _lit, p in parts if p), "")
        return ("", problem) if problem else (f"{ref} {op} [{', '.join(lit for lit, _ in parts)}]", "")
    lit, problem = literal(clause.value, "string" if op == "contains" else field_type)
    if problem:
        return "", problem
    return (f"{lit} in {ref}", "") if op == "contains" else (f"{ref} {op} {lit}", "")


def to_text(group: Group, types: dict[str, str], depth: int = 0) -> tuple[str, dict[str, str]]:
    """(condition text, problems by item path like '0' or '1.2')."""
    parts, problems = [], {}
    for n, item in enumerate(group.items):
        if isinstance(item, Group):
            text, inner = to_text(item, types, depth + 1)
            problems.update({f"{n}.{k}": v for k, v in inner.items()})
            if text:
                parts.append(f"({text})" if len(item.items) > 1 else text)
        else:
            text, problem = clause_text(item, types.get(item.field, ""))
            if problem:
                problems[str(n)] = problem
            else:
                parts.append(text)
    return f" {group.join} ".join(parts), problems


# ---- text → builder ----------------------------------------------------------------------

_REF = r"(?:record|input)(?:\.[A-Za-z_][A-Za-z0-9_]*)+"
_STR = r"'(?:[^'\\]|\\.)*'"
_LIT = rf"(?:-?\d+(?:\.\d+)?|{_STR}|true|false)"
_COMPARE = re.compile(rf"^(?P<ref>{_REF}) (?P<op>==|!=|>=|<=|>|<|not in|in) (?P<lit>{_LIT}|\[(?:{_LIT}(?:, )?)*\])$")
_CONTAINS = re.compile(rf"^(?P<lit>{_STR}) in (?P<ref>{_REF})$")
_SET = re.compile(rf"^(?P<ref>{_REF}) \| default\(''\) (?P<op>==|!=) ''$")


def _value(lit: str) -> str:
    if lit in ("true", "false"):
        return lit
    if lit.startswith("["):
        return ", ".join(_value(x) for x in re.findall(rf"{_STR}|-?\d+(?:\.\d+)?", lit))
    if lit.startswith("'"):
        return str(ast.literal_eval(lit))
    return lit


def _clause(text: str) -> Clause | None:
    if match := _SET.match(text):
        return Clause(match["ref"], "set" if match["op"] == "!=" else "empty")
    if match := _CONTAINS.match(text):
        return Clause(match["ref"], "contains", _value(match["lit"]))
    if match := _COMPARE.match(text):
        if match["lit"] in ("true", "false") and match["op"] == "==":
            return Clause(match["ref"], match["lit"])
        return Clause(match["ref"], match["op"], _value(match["lit"]))
    return None


def _split(text: str) -> tuple[list[str], str] | None:
    """Top-level parts and their joiner; None when ANDs and ORs mix at one level."""
    parts, joins, depth, quote, start, i = [], set(), 0, False, 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            i += 2 if ch == "\\" else 1
            quote = quote and ch != "'"
            continue
        if ch == "'":
            quote = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            for word in (" and ", " or "):
                if text.startswith(word, i):
                    parts.append(text[start:i])
                    joins.add(word.strip())
                    start = i + len(word)
                    i = start - 1
                    break
        i += 1
    parts.append(text[start:])
    if len(joins) > 1:
        return None
    return [p.strip() for p in parts], (joins.pop() if joins else "and")


def parse(text: str, depth: int = 0) -> Group | None:
    """The builder's group for a condition `to_text` wrote, None for anything else."""
    split = _split(text.strip()) if isinstance(text, str) else None
    if split is None:
        return None
    parts, join = split
    group = Group(join)
    for part in parts:
        if part.startswith("(") and part.endswith(")") and depth == 0:
            inner = parse(part[1:-1], depth + 1)
            if inner is None or any(isinstance(i, Group) for i in inner.items):
                return None
            group.items.append(inner)
            continue
        clause = _clause(part)
        if clause is None:
            return None
        group.items.append(clause)
    return group
