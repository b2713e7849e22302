"""The approval step panel: who approves (a group, named users, or a field of the record),
policy (first responder or everyone), what approve and reject do, when it is due and what
happens then, and the summary the approver reads — with a preview of the approver's card
on the sample record. The inbox always requires a comment to reject
(integrations.approvals.services.decide), so the panel shows that rule rather than a switch."""

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.shortcuts import render
from django.views.decorators.http import require_POST

from integrations.flows import engine_api, suggest
from studio.htmx import htmx_partial
from studio.permissions import capability_required
from studio.ui.approvals.cards import summary_of
from studio.ui.flows.panels.common import StepContext, clean_text, draft_errors, load, load_by_key, save_step
from studio.ui.flows.panels.registry import register

SOURCES = {"group": "A group", "users": "Named people", "field": "A field of the record (a username)"}
POLICIES = {"any": "First responder decides", "all": "Everyone named must approve"}
EXPIRY = {
    "escalate": "Escalate (to an admin)",
    "auto-reject": "Reject automatically",
    "auto-approve": "Approve automatically",
}
STEP_KEYS = ("approvers", "group", "policy", "sla_hours", "on_expiry", "on_reject", "summary")
_FIELD_TEMPLATE = re.compile(r"^\{\{\s*(record(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*\}\}$")
_USERNAME = re.compile(r"^[\w.@+-]{1,100}$")
MAX_USERS = 50


def values_of(step: dict) -> dict:
    approvers = step.get("approvers") if isinstance(step.get("approvers"), dict) else {}
    if step.get("group"):
        approvers = {"group": step["group"]}
    user = approvers.get("user") if isinstance(approvers.get("user"), str) else ""
    field = _FIELD_TEMPLATE.match(user)
    source = "users" if "users" in approvers or (user and not field) else ("field" if user else "group")
    return {
        "source": source,
        "group": approvers.get("group", ""),
        "users": [u for u in approvers.get("users") or [user] if isinstance(u, str) and u and not field],
        "field": field[1] if field else "",
        "policy": step.get("policy", "any"),
        "on_reject": step.get("on_reject", "stop"),
        "sla_hours": "" if step.get("sla_hours") is None else f"{step['sla_hours']:g}",
        "on_expiry": step.get("on_expiry", "escalate"),
        "summary": step.get("summary", ""),
    }


def from_post(data, later: list[str]) -> tuple[dict, dict]:
    errors: dict[str, str] = {}
    values: dict = {}
    for name, label, limit in (("group", "Group", 100), ("field", "Field", 200), ("summary", "Summary", 5000)):
        values[name], error = clean_text(data.get(name), label=label, max_length=limit)
        if error:
            errors[name] = error
    values["source"] = data.get("source") if data.get("source") in SOURCES else ""
    users = [u.strip() for u in data.getlist("users")[: MAX_USERS + 1] if isinstance(u, str) and u.strip()]
    values["users"] = users[:MAX_USERS]
    values["policy"] = data.get("policy") if data.get("policy") in POLICIES else ""
    values["on_expiry"] = data.get("on_expiry") if data.get("on_expiry") in EXPIRY else ""
    values["on_reject"] = data.get("on_reject") if data.get("on_reject") in ("stop", *later) else ""
    values["sla_hours"], error = clean_text(data.get("sla_hours"), label="Due within", max_length=20)
    if error:
        errors["sla_hours"] = error
    for name, label in (("source", "Who approves"), ("policy", "Policy"), ("on_expiry", "At expiry")):
        if not values[name]:
            errors[name] = f"{label}: choose one of the options"
    if not values["on_reject"]:
        errors["on_reject"] = "On reject: stop the run, or a step after this one"
    _check_approvers(values, errors, len(users) > MAX_USERS)
    return values, errors


def _check_approvers(values: dict, errors: dict, too_many: bool) -> None:
    if values["source"] == "group" and not values["group"]:
        errors["group"] = "Group: name the group that approves"
    if values["source"] == "users":
        if too_many:
            errors["users"] = f"Named people: at most {MAX_USERS}"
        elif not values["users"]:
            errors["users"] = "Named people: choose at least one person"
        elif bad := [u for u in values["users"] if not _USERNAME.match(u)]:
            errors["users"] = f"Named people: “{bad[0][:40]}” is not a username"
    if values["source"] == "field" and not re.fullmatch(r"record(\.[A-Za-z_][A-Za-z0-9_]*)+", values["field"]):
        errors["field"] = "Field: pick the record field that holds the approver's username"
    hours = values["sla_hours"]
    if hours:
        try:
            number = float(hours)
        except ValueError:
            number = -1.0
        if not 0 < number <= 8760:
            errors["sla_hours"] = "Due within: a number of hours above 0 and at most 8760 (a year)"


def to_step(step: dict, values: dict) -> dict:
    new = {k: v for k, v in step.items() if k not in STEP_KEYS}
    if values["source"] == "group":
        new["approvers"] = {"group": values["group"]}
    elif values["source"] == "users":
        new["approvers"] = {"users": values["users"]}
    else:
        new["approvers"] = {"user": "{{ " + values["field"] + " }}"}
    new.update(policy=values["policy"], on_expiry=values["on_expiry"], on_reject=values["on_reject"])
    if values["sla_hours"]:
        hours = float(values["sla_hours"])
        new["sla_hours"] = int(hours) if hours.is_integer() else hours
    if values["summary"]:
        new["summary"] = values["summary"]
    return new


def _card(ctx: StepContext, values: dict) -> dict:
    """What the approver's card would show for the sample record."""
    title, problem = (f"Approve: {ctx.step.get('name') or ctx.step.get('id')}", "")
    if values.get("summary"):
        rendered, problem = engine_api.preview_template(values["summary"], ctx.record)
        title = str(rendered)[:200] if not problem else ""
    who = values.get("group") if values.get("source") == "group" else ""
    if values.get("source") == "users":
        who = ", ".join(values.get("users") or [])
    elif values.get("source") == "field" and values.get("field"):
        user, user_problem = engine_api.preview_template("{{ " + values["field"] + " }}", ctx.record)
        who = f"{user} (from {values['field']})" if not user_problem else ""
        problem = problem or (f"approver field: {user_problem}" if user_problem else "")
    return {"title": title, "summary": summary_of(ctx.record), "who": who, "problem": problem}


def _context(ctx: StepContext, values: dict, errors: dict, **extra) -> dict:
    fields = [
        "record" + s.path[1:]
        for s in suggest.sources_of(ctx.record, limit=300)
        if re.fullmatch(r"\$(\.[A-Za-z_][A-Za-z0-9_]*)+", s.path)
    ]
    deciders = get_user_model().objects.filter(is_active=True, groups__permissions__codename="decide_approvals")
    people = sorted(set(deciders.values_list("username", flat=True)) | set(values.get("users") or []))
    return {
        "flow": ctx.flow,
        "index": ctx.index,
        "step": ctx.step,
        "ctx": ctx,
        "v": values,
        "errors": errors,
        "sources": SOURCES,
        "policies": POLICIES,
        "expiry": EXPIRY,
        "later": ctx.step_ids_after,
        "groups": list(Group.objects.order_by("name").values_list("name", flat=True)),
        "people": people[:500],
        "fields": fields,
        "card": _card(ctx, values),
        "can_edit": ctx.can_edit,
        **extra,
    }


def _render(request, context: dict, status: int = 200):
    context["panel_template"] = "flows/panels/approve.html"
    template = "flows/panels/approve.html" if htmx_partial(request) else "flows/panels/page.html"
    return render(request, template, context, status=status)


def _engine_errors(errors: list[dict]) -> dict:
    """The engine's errors by the panel's input: approvers.* → who, the rest by their own name."""
    found = {}
    for error in errors:
        part = error["part"].split(".")[0].split("[")[0] or "step"
        found[{"approvers": "source", "group": "group"}.get(part, part)] = error["message"]
    return found


@register("approve")
def panel(request, flow, draft, index):
    ctx = load(request, flow, draft, index, "approve")
    return _render(request, _context(ctx, values_of(ctx.step), _engine_errors(draft_errors(ctx))))


@require_POST
@capability_required("edit_flows")
def edit(request, key: str, index: int):
    """action=preview re-draws the card; add-field puts a field into the summary; save writes the step."""
    ctx = load_by_key(request, key, index, "approve")
    values, errors = from_post(request.POST, ctx.step_ids_after)
    action = request.POST.get("action", "save")
    if action == "add-field":
        field = request.POST.get("add_field", "")
        if re.fullmatch(r"record(\.[A-Za-z_][A-Za-z0-9_]*)+", field) and len(values["summary"]) < 4900:
            values["summary"] = (values["summary"] + " · " if values["summary"] else "") + "{{ " + field + " }}"
        return _render(request, _context(ctx, values, {}))
    if action == "preview":
        return _render(request, _context(ctx, values, {}), status=200)
    if errors:
        return _render(request, _context(ctx, values, errors), status=422)
    step_errors, problem = save_step(ctx, request.user, to_step(ctx.step, values))
    found = _engine_errors(step_errors)
    if problem:
        found["step"] = problem
    return _render(request, _context(ctx, values, found, saved=not found), status=422 if found else 200)
