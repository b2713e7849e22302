"""Step panels for lookup, validate, deliver and batch steps, as forms (never raw JSON), and the
fallback for a kind nobody registered a panel for.

A panel shows the record the step will receive (sample_input.explain) and the step's settings.
Saving replaces the step in the draft (flows/editing.replace_step); the engine's errors come
back at the field they name, e.g. `steps[2].rules[0].when` → the first rule's condition.
Keys the form does not know (set through the API or an import) are kept as they are."""

import re
from dataclasses import dataclass, field

from django.shortcuts import redirect, render
from django.urls import reverse

from integrations.canonical.registry import list_objects, list_versions
from integrations.connections.models import Connection
from integrations.flows import checks, editing
from studio.htmx import htmx_partial
from studio.permissions import can
from studio.ui.flows import editor
from studio.ui.flows.sample_input import explain

TEXT_MAX = 2000
MAX_ROWS = 200
ACTIONS = ("create", "update", "upsert")
CHECK_DEFAULTS = {"required": True, "inline": False}


@dataclass
class Field:
    name: str
    label: str
    kind: str = "text"  # text | select | check | number | textarea
    value: object = ""
    options: list = field(default_factory=list)
    help: str = ""
    error: str = ""


@dataclass
class Rows:
    """A repeated group (look-up keys, validation rules): existing rows plus one blank."""

    name: str
    label: str
    columns: list  # [(column, label, placeholder)]
    rows: list  # [{column: value}]
    errors: dict = field(default_factory=dict)  # {row: {column: message}}


def _connections() -> list[str]:
    return list(Connection.objects.order_by("name").values_list("name", flat=True))


def _schemas() -> list[str]:
    return [f"{name}@{v}" for name in list_objects() for v in list_versions(name)]


def fields_for(step: dict) -> tuple[list[Field], list[Rows]]:
    kind = step.get("type")
    common = [
        Field("id", "Step id", value=step.get("id", ""), help="Lower-case letters, digits and _; unique in the flow."),
        Field(
            "when",
            "Run only when",
            value=step.get("when", ""),
            help="A condition, e.g. record.amount > 0. Blank = always.",
        ),
    ]
    rows: list[Rows] = []
    if kind == "lookup":
        common += [
            Field("connection", "Connection", "select", step.get("connection", ""), _connections()),
            Field("object", "Object", value=step.get("object", ""), help="e.g. Opportunity"),
            Field(
                "into",
                "Put the result into",
                value=step.get("into", ""),
                help="A name in the record; blank = only steps.<id>.",
            ),
            Field("required", "Fail the record when nothing is found", "check", step.get("required", True)),
        ]
        by = step.get("by") if isinstance(step.get("by"), dict) else {}
        columns = [("field", "Field", "Id"), ("template", "Value (template)", "{{ record.Id }}")]
        rows.append(Rows("by", "Find by", columns,
                         [{"field": k, "template": v} for k, v in by.items()]))  # fmt: skip
    elif kind == "validate":
        common.append(Field("schema", "Canonical schema", "select", step.get("schema", ""), _schemas()))
        rules = step.get("rules") if isinstance(step.get("rules"), list) else []
        rows.append(Rows("rules", "Rules (the condition describes the problem)",
                         [("when", "Problem when", "record.amount < 0"), ("message", "Message", "amount is negative"),
                          ("field", "Field", "amount")],
                         [r for r in rules if isinstance(r, dict)]))  # fmt: skip
    elif kind == "deliver":
        common += [
            Field("connection", "Connection", "select", step.get("connection", ""), _connections()),
            Field("object", "Object", value=step.get("object", ""), help="e.g. timeBill"),
            Field("action", "Action", "select", step.get("action", "upsert"), list(ACTIONS)),
            Field(
                "key",
                "Idempotency key",
                value=step.get("key", ""),
                help="One key is one write, ever: opp-{{ input.Id }}",
            ),
            Field("external_id_field", "Target field holding our reference", value=step.get("external_id_field", "")),
            Field(
                "external_id", "Our reference (template)", value=step.get("external_id", ""), help="Blank = the key."
            ),
            Field("inline", "Post within the invoke request", "check", step.get("inline", False)),
        ]
    elif kind == "batch":
        common += [
            Field("group_key", "Group by (template)", value=step.get("group_key", ""), help="{{ record.client_id }}"),
            Field("size", "Records per batch", "number", step.get("size", "")),
            Field("max_wait_seconds", "Flush after (seconds)", "number", step.get("max_wait_seconds", "")),
        ]
    return common, rows


def step_from(post, step: dict) -> tuple[dict, dict[str, str]]:
    """The step as posted (unknown keys kept) and input errors that stop the save."""
    kind = step.get("type")
    fields, rows = fields_for(step)
    new = dict(step)
    errors: dict[str, str] = {}
    for f in fields:
        raw = post.get(f.name)
        if f.kind == "check":
            new[f.name] = raw in ("on", "true", "1")
            if new[f.name] == CHECK_DEFAULTS.get(f.name):
                new.pop(f.name)  # the engine's default: keep the definition short
            continue
        value = (raw or "").strip()
        if "\x00" in value:
            errors[f.name] = "contains a NUL character"
            continue
        if len(value) > TEXT_MAX:
            errors[f.name] = f"at most {TEXT_MAX} characters"
            continue
        if f.kind == "number":
            if value and not (value.isdigit() and len(value) < 10):
                errors[f.name] = "a whole number"
                continue
            value = int(value) if value else ""
        if value in ("", None) and f.name not in ("id",):
            new.pop(f.name, None)
        else:
            new[f.name] = value
    for group in rows:
        count = min(_int(post.get(f"{group.name}-count")), MAX_ROWS)
        items = []
        for i in range(count):
            row = {c: (post.get(f"{group.name}-{i}-{c}") or "").strip()[: TEXT_MAX + 1] for c, _, _ in group.columns}
            if any(len(v) > TEXT_MAX for v in row.values()):
                errors[f"{group.name}-{i}"] = f"at most {TEXT_MAX} characters"
            if any("\x00" in v for v in row.values()):
                errors[f"{group.name}-{i}"] = "contains a NUL character"
            if any(row.values()) and post.get(f"{group.name}-{i}-delete") != "on":
                items.append(row)
        if kind == "lookup":
            new["by"] = {r["field"]: r["template"] for r in items if r["field"]}
        else:
            new["rules"] = [{k: v for k, v in r.items() if v} for r in items]
    return new, errors


def _int(value) -> int:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 5 else 0


ROW_ERROR = re.compile(r"^(rules)\[(\d+)\]\.?(\w*)")


def place_errors(fields: list[Field], rows: list[Rows], errors: list[dict], input_errors: dict) -> list[str]:
    """Put each error on its field; what has no field is returned for the top of the panel."""
    by_name = {f.name: f for f in fields}
    groups = {g.name: g for g in rows}
    general = []
    for name, message in input_errors.items():
        if name in by_name:
            by_name[name].error = message
        else:
            general.append(f"{name}: {message}")
    for error in errors:
        at, message = error.get("at", ""), error["message"]
        match = ROW_ERROR.match(at)
        top = at.split(".")[0].split("[")[0]
        if match and "rules" in groups:
            groups["rules"].errors.setdefault(int(match.group(2)), {})[match.group(3) or "when"] = message
        elif top == "by" and "by" in groups:
            groups["by"].errors.setdefault(0, {})["template"] = message
        elif top in by_name and not by_name[top].error:
            by_name[top].error = message
        else:
            general.append(f"{at or 'step'}: {message}")
    return general


def panel(request, flow, draft, index):
    """GET: the form; POST: save it into the draft and show it again with the errors left."""
    step = draft.definition["steps"][index]
    step = step if isinstance(step, dict) else {}
    input_errors: dict[str, str] = {}
    saved = False
    status = 200
    if request.method == "POST":
        if not can(request.user, "edit_flows"):
            return render(request, "403.html", status=403)
        new, input_errors = step_from(request.POST, step)
        if not input_errors:
            try:
                draft, _ = editing.replace_step(
                    flow, request.user, index, new, base_hash=request.POST.get("base") or None
                )
            except editing.EditError as exc:
                input_errors = {exc.field: exc.message}
            else:
                saved = True
                step = new
                if not htmx_partial(request):
                    return redirect(f"{reverse('flows:editor', args=[flow.key])}?step={index}")
        if input_errors:
            status = 422
            step = new
    fields, rows = fields_for(step)
    problems = checks.problems(draft.definition, digest=draft.content_hash)
    by_step, _ = editor.split_errors(problems)
    general = place_errors(fields, rows, by_step.get(index, []), input_errors)
    context = {
        "flow": flow,
        "draft": draft,
        "index": index,
        "step": step,
        "fields": fields,
        "rows": rows,
        "general_errors": general,
        "saved": saved,
        "sample": explain(flow, draft, index),
        "can_edit": can(request.user, "edit_flows"),
        "known_kind": step.get("type") in ("lookup", "validate", "deliver", "batch"),
    }
    response = render(request, "flows/panels/generic.html", context, status=status)
    if saved and htmx_partial(request):
        head = editor.context(request, flow, tab="editor")
        head.update(selected=index, oob=True)
        response.content += render(request, "flows/htmx/step_list.html", head).content
    return response
