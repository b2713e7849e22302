"""The routing rule builder: the panel of a `route` step.

First-match or all-matches; named branches in evaluation order (up/down buttons); each
branch's condition built from clauses and one level of sub-groups (route_rules.py) with a
field picker from the sample record and operators for the field's type; a default branch
(`otherwise`) that is always there; "Test against sample" marks the branch(es) the sample
would take. Every button posts the whole form: structural changes re-draw it unsaved, Save
writes the step through integrations.flows.editing."""

import re

from django.shortcuts import render
from django.views.decorators.http import require_POST

from integrations.flows import engine_api, suggest
from studio.htmx import htmx_partial
from studio.permissions import capability_required
from studio.ui.flows.panels.common import StepContext, clean_text, draft_errors, load, load_by_key, save_step
from studio.ui.flows.panels.registry import register
from studio.ui.flows.panels.route_rules import (
    MAX_ITEMS,
    NO_VALUE,
    REF,
    Clause,
    Group,
    operators_for,
    parse,
    to_text,
)

MAX_BRANCHES = 50
_ITEM = re.compile(r"^b(\d{1,2})-(\d{1,2})(?:-(\d{1,2}))?-(field|op|value)$")


class Branch:
    def __init__(self, name="", group=None, to=(), raw=None):
        self.name = name
        self.group = group if group is not None else Group("and", [Clause()])
        self.to = list(to)
        self.raw = raw  # a condition the builder cannot show, kept as text
        self.errors: dict[str, str] = {}
        self.result: bool | None = None
        self.hit = False


def _targets(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]


def from_step(step: dict) -> tuple[str, list[Branch], list[str]]:
    branches = []
    for rule in step.get("rules") or []:
        if not isinstance(rule, dict):
            continue
        when = rule.get("when") if isinstance(rule.get("when"), str) else ""
        group = parse(when) if when else Group("and", [Clause()])
        branches.append(Branch(str(rule.get("name", "")), group, _targets(rule.get("to")), None if group else when))
    if not branches:  # a route just added: start the analyst off with one branch to fill in
        branches.append(Branch("branch_1"))
    return step.get("mode") or "first-match", branches, _targets(step.get("otherwise"))


def field_types(ctx: StepContext) -> dict[str, str]:
    """`record.a.b` → type, from the sample record (the field picker's list)."""
    found = {}
    for source in suggest.sources_of(ctx.record, limit=300):
        if re.fullmatch(r"\$(\.[A-Za-z_][A-Za-z0-9_]*)+", source.path):
            found["record" + source.path[1:]] = suggest.value_type(source.value)
    return found


def from_post(data) -> tuple[str, list[Branch], list[str], dict[str, str]]:
    """The builder's state from the posted form; problems by input name for what cannot be read."""
    problems: dict[str, str] = {}
    mode = data.get("mode") if data.get("mode") in ("first-match", "all-matches") else "first-match"
    count = min(_int(data.get("branches")), MAX_BRANCHES)
    branches = []
    for i in range(count):
        name, error = clean_text(data.get(f"b{i}-name"), label="Branch name", max_length=100)
        if error:
            problems[f"b{i}-name"] = error
        raw = None
        if f"b{i}-when" in data:
            raw, error = clean_text(data.get(f"b{i}-when"), label="Condition", max_length=5000, required=True)
            if error:
                problems[f"b{i}-when"] = error
        to = [t for t in data.getlist(f"b{i}-to")[:MAX_BRANCHES] if re.fullmatch(r"[a-z][a-z0-9_]{0,63}", t)]
        branches.append(Branch(name, None if raw is not None else _group(data, i, problems), to, raw))
    otherwise = [t for t in data.getlist("otherwise")[:MAX_BRANCHES] if re.fullmatch(r"[a-z][a-z0-9_]{0,63}", t)]
    return mode, branches, otherwise, problems


def _int(value) -> int:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 4 else 0


def _group(data, i: int, problems: dict) -> Group:
    items: dict[int, object] = {}
    for key in data:
        match = _ITEM.match(key)
        if not match or int(match[1]) != i:
            continue
        j, k, part = int(match[2]), match[3], match[4]
        if j >= MAX_ITEMS or (k is not None and int(k) >= MAX_ITEMS):
            continue
        value, error = clean_text(data.get(key), label="Value", max_length=2000)
        if error:
            problems[key] = error
        if k is None:
            clause = items.setdefault(j, Clause())
            if isinstance(clause, Clause):
                setattr(clause, part, value)
        else:
            sub = items.setdefault(j, Group(_join(data.get(f"b{i}-{j}-join"))))
            if isinstance(sub, Group):
                while len(sub.items) <= int(k):
                    sub.items.append(Clause())
                setattr(sub.items[int(k)], part, value)
    return Group(_join(data.get(f"b{i}-join")), [items[j] for j in sorted(items)])


def _join(value) -> str:
    return value if value in ("and", "or") else "and"


def _apply(action: str, branches: list[Branch]) -> None:
    """add-branch | remove:i | up:i | down:i | clause:i | group:i | subclause:i:j | drop:i:j[:k]"""
    verb, _, rest = (action or "").partition(":")
    nums = [int(n) for n in rest.split(":") if n.isdigit() and len(n) < 3]
    if verb == "add-branch" and len(branches) < MAX_BRANCHES:
        branches.append(Branch(f"branch_{len(branches) + 1}"))
        return
    if not nums or nums[0] >= len(branches):
        return
    i, branch = nums[0], branches[nums[0]]
    if verb == "remove":
        branches.pop(i)
    elif verb == "up" and i > 0:
        branches[i - 1], branches[i] = branches[i], branches[i - 1]
    elif verb == "down" and i < len(branches) - 1:
        branches[i + 1], branches[i] = branches[i], branches[i + 1]
    elif verb == "clause" and len(branch.group.items) < MAX_ITEMS:
        branch.group.items.append(Clause())
    elif verb == "group" and len(branch.group.items) < MAX_ITEMS:
        branch.group.items.append(Group("or", [Clause(), Clause()]))
    elif verb in ("subclause", "drop") and len(nums) >= 2 and nums[1] < len(branch.group.items):
        item = branch.group.items[nums[1]]
        if verb == "subclause" and isinstance(item, Group) and len(item.items) < MAX_ITEMS:
            item.items.append(Clause())
        elif verb == "drop" and len(nums) == 3 and isinstance(item, Group) and nums[2] < len(item.items):
            item.items.pop(nums[2])
            if not item.items:
                branch.group.items.pop(nums[1])
        elif verb == "drop" and len(nums) == 2:
            branch.group.items.pop(nums[1])


def _conditions(branches: list[Branch], types: dict[str, str]) -> dict[int, str]:
    texts = {}
    for i, branch in enumerate(branches):
        if branch.raw is not None:
            texts[i] = branch.raw
            continue
        text, problems = to_text(branch.group, types)
        for path, message in problems.items():
            branch.errors[f"item-{path}"] = message
        if text and not problems:
            texts[i] = text
        elif not problems:
            branch.errors["when"] = "add at least one condition"
    return texts


def _check(branches: list[Branch], texts: dict[int, str], later: list[str]) -> None:
    names = [b.name for b in branches]
    for i, branch in enumerate(branches):
        if not branch.name:
            branch.errors["name"] = "give the branch a name"
        elif branch.name in names[:i]:
            branch.errors["name"] = f"the name “{branch.name}” is used by an earlier branch"
        if not branch.to:
            branch.errors["to"] = "choose the step(s) this branch leads to"
        if any(t not in later for t in branch.to):
            branch.errors["to"] = "a branch leads only to steps after the route"
        if i in texts and (problem := engine_api.check_condition(texts[i])):
            branch.errors["when"] = problem


def _test(mode: str, branches: list[Branch], texts: dict[int, str], record: dict) -> dict:
    matched = []
    for i, branch in enumerate(branches):
        if i not in texts:
            continue
        branch.result, problem = engine_api.evaluate_condition(texts[i], record)
        if problem:
            branch.errors["test"] = problem
        elif branch.result:
            matched.append(branch)
    chosen = matched[:1] if mode == "first-match" else matched
    for branch in chosen:
        branch.hit = True
    return {"default_hit": not chosen, "tested": True}


def _context(ctx: StepContext, mode, branches, otherwise, **extra) -> dict:
    types = field_types(ctx)
    used = {c.field for b in branches for c in _clauses(b.group)}
    for i, branch in enumerate(branches):
        for n, item in enumerate(branch.group.items):
            for k, clause in enumerate(item.items) if isinstance(item, Group) else [(None, item)]:
                at = f"{i}-{n}" if k is None else f"{i}-{n}-{k}"
                clause.name, clause.drop = f"b{at}", at.replace("-", ":")
                clause.options = operators_for(types.get(clause.field, ""))
    fields = sorted(types) + sorted(f for f in used if f and f not in types and REF.match(f))
    return {
        "flow": ctx.flow,
        "index": ctx.index,
        "step": ctx.step,
        "ctx": ctx,
        "mode": mode,
        "branches": branches,
        "otherwise": otherwise,
        "later": ctx.step_ids_after,
        "fields": fields,
        "types": types,
        "no_value": NO_VALUE,
        "can_edit": ctx.can_edit,
        **extra,
    }


def _clauses(group: Group):
    for item in group.items:
        if isinstance(item, Group):
            yield from _clauses(item)
        else:
            yield item


def _render(request, context: dict, status: int = 200):
    context["panel_template"] = "flows/panels/route.html"
    template = "flows/panels/route.html" if htmx_partial(request) else "flows/panels/page.html"
    return render(request, template, context, status=status)


@register("route")
def panel(request, flow, draft, index):
    ctx = load(request, flow, draft, index, "route")
    mode, branches, otherwise = from_step(ctx.step)
    _attach(branches, draft_errors(ctx))
    return _render(request, _context(ctx, mode, branches, otherwise))


def _attach(branches: list[Branch], errors: list[dict]) -> dict:
    """The engine's errors at the branch and part they concern; the rest by part."""
    rest = {}
    for error in errors:
        match = re.match(r"^rules\[(\d+)\]\.?(\w*)", error["part"])
        if match and int(match[1]) < len(branches):
            branches[int(match[1])].errors[match[2] or "when"] = error["message"]
        else:
            rest[error["part"] or "step"] = error["message"]
    return rest


@require_POST
@capability_required("edit_flows")
def edit(request, key: str, index: int):
    ctx = load_by_key(request, key, index, "route")
    mode, branches, otherwise, problems = from_post(request.POST)
    action = request.POST.get("action", "")
    if action not in ("save", "test"):
        _apply(action, branches)
        return _render(request, _context(ctx, mode, branches, otherwise, problems=problems))
    texts = _conditions(branches, field_types(ctx))
    _check(branches, texts, ctx.step_ids_after)
    extra: dict = {"problems": problems}
    if action == "test":
        extra.update(_test(mode, branches, texts, ctx.record))
        return _render(request, _context(ctx, mode, branches, otherwise, **extra))
    if problems or any(b.errors for b in branches):
        return _render(request, _context(ctx, mode, branches, otherwise, **extra), status=422)
    step = {k: v for k, v in ctx.step.items() if k not in ("mode", "rules", "otherwise")}
    rules = [{"name": b.name, "when": texts[i], "to": _one_or_list(b.to)} for i, b in enumerate(branches)]
    step.update(mode=mode, rules=rules)
    if otherwise:
        step["otherwise"] = _one_or_list(otherwise)
    errors, problem = save_step(ctx, request.user, step)
    extra["step_errors"] = _attach(branches, errors)
    if problem:
        extra["step_errors"]["step"] = problem
    extra["saved"] = not errors and not problem
    return _render(request, _context(ctx, mode, branches, otherwise, **extra), status=422 if errors or problem else 200)


def _one_or_list(ids: list[str]):
    return ids[0] if len(ids) == 1 else ids
