"""The flow page's shared header (banner, tabs, backlog) and the editor's step list: what each
step is, whether it is valid (the engine's errors, grouped by the step they point at), and
the actions on the list (add between steps, move, delete)."""

import re
from dataclasses import dataclass, field

from django.contrib import messages
from django.db.models import Max
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from integrations.flows import checks, editing, four_eyes
from integrations.flows.models import Flow
from integrations.flows.services import draft_of
from integrations.triggers.backlog import by_flow
from studio.permissions import can, capability_required

STEP_FIELD = re.compile(r"^steps\[(\d+)\]\.?(.*)$")
STEP_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# The kinds an analyst can add, with the blank step each starts from (invalid until filled in).
KINDS = {
    "map": ("Map fields", {"fields": []}),
    "lookup": ("Look up a record", {"connection": "", "object": "", "by": {}}),
    "validate": ("Validate", {"rules": []}),
    "route": ("Route", {"mode": "first-match", "rules": [], "otherwise": None}),
    "approve": ("Ask for approval", {"approvers": {"group": "Approver"}, "on_reject": "stop"}),
    "deliver": ("Deliver", {"connection": "", "object": "", "action": "upsert", "key": ""}),
    "batch": ("Batch", {"group_key": "", "size": 100}),
}

# Other engineers' pages linked from the tabs once their URL names exist.
OPTIONAL_TABS = (
    ("Test", ("flows:test", "flows:test-panel", "flowtests:panel")),
    ("Export", ("flows:io", "flows:export")),
)


@dataclass
class StepRow:
    index: int
    id: str
    type: str
    summary: str
    errors: list = field(default_factory=list)


def split_errors(errors: list[dict]) -> tuple[dict[int, list], list]:
    """{step index: [errors]} and the errors of the rest (trigger, definition)."""
    by_step: dict[int, list] = {}
    rest = []
    for error in errors:
        match = STEP_FIELD.match(error.get("field") or "")
        if match:
            by_step.setdefault(int(match.group(1)), []).append({**error, "at": match.group(2)})
        else:
            rest.append(error)
    return by_step, rest


def summary(step: dict) -> str:
    kind = step.get("type")
    if kind == "map":
        fields = step.get("fields") if isinstance(step.get("fields"), list) else []
        target = f" → {step['target']}" if step.get("target") else ""
        return f"{len(fields)} field{'s' if len(fields) != 1 else ''}{target}"
    if kind in ("lookup", "deliver"):
        action = f"{step.get('action')} " if kind == "deliver" and step.get("action") else ""
        return f"{action}{step.get('object') or '?'} on {step.get('connection') or '?'}"
    if kind in ("route", "validate"):
        rules = step.get("rules") if isinstance(step.get("rules"), list) else []
        schema = f"{step['schema']} + " if step.get("schema") else ""
        return f"{schema}{len(rules)} rule{'s' if len(rules) != 1 else ''}"
    if kind == "approve":
        who = step.get("approvers") or {}
        return f"approvers: {', '.join(f'{k} {v}' for k, v in who.items()) if isinstance(who, dict) else who}"
    if kind == "batch":
        return f"by {step.get('group_key') or '?'}, {step.get('size') or '?'} a batch"
    return ""


def trigger_summary(trigger) -> str:
    if not isinstance(trigger, dict):
        return "no trigger"
    kind = trigger.get("type")
    if kind == "event":
        return f"event {trigger.get('event') or 'any'} from {trigger.get('connection') or '?'}"
    if kind == "schedule":
        return f"schedule {trigger.get('cron') or '?'} ({trigger.get('timezone') or 'UTC'})"
    if kind == "poll":
        return (
            f"poll {trigger.get('object') or '?'} on {trigger.get('connection') or '?'}, {trigger.get('cron') or '?'}"
        )
    return "manual: started by a person or the API"


def optional_links(flow: Flow) -> list[tuple[str, str]]:
    links = []
    for label, names in OPTIONAL_TABS:
        for name in names:
            try:
                links.append((label, reverse(name, kwargs={"key": flow.key})))
                break
            except NoReverseMatch:
                continue
    return links


def context(request, flow: Flow, *, tab: str) -> dict:
    """The flow page's header and, for the editor tab, its step list."""
    draft = draft_of(flow)
    definition = draft.definition if isinstance(draft.definition, dict) else {}
    published = flow.versions.filter(state="published").aggregate(n=Max("number"))["n"]
    live = flow.live_version if published else None
    errors = checks.problems(definition, digest=draft.content_hash if definition is draft.definition else None)
    by_step, other = split_errors(errors)
    raw_steps = definition.get("steps") if isinstance(definition.get("steps"), list) else []
    steps = [
        StepRow(
            i,
            str(s.get("id") or "") if isinstance(s, dict) else "",
            str(s.get("type") or "?") if isinstance(s, dict) else "?",
            summary(s) if isinstance(s, dict) else "",
            by_step.get(i, []),
        )
        for i, s in enumerate(raw_steps)
    ]
    return {
        "flow": flow,
        "draft": draft,
        "live": live,
        "next_number": (published or 0) + 1,
        "draft_changed": live is None or live.content_hash != draft.content_hash,
        "tab": tab,
        "steps": steps,
        "trigger": definition.get("trigger"),
        "trigger_summary": trigger_summary(definition.get("trigger")),
        "trigger_errors": [e for e in other if (e.get("field") or "").startswith("trigger")],
        "other_errors": [e for e in other if not (e.get("field") or "").startswith("trigger")],
        "errors": errors,
        "backlog": by_flow([flow.pk]).get(flow.pk, {"queued": 0, "in_progress": 0}),
        "pending_request": four_eyes.pending(flow),
        "kinds": [(k, label) for k, (label, _) in KINDS.items()],
        "can_edit": can(request.user, "edit_flows"),
        "can_publish": can(request.user, "publish_flows"),
        "extra_tabs": optional_links(flow),
        "selected": None,
    }


def new_step_id(kind: str, steps: list) -> str:
    taken = {s.get("id") for s in steps if isinstance(s, dict)}
    n = 1
    while f"{kind}_{n}" in taken:
        n += 1
    return f"{kind}_{n}"


def _int(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 6 else None


def _back(flow: Flow, step=None):
    url = reverse("flows:editor", kwargs={"key": flow.key})
    return redirect(f"{url}?step={step}#step-panel" if step is not None else url)


@require_POST
@capability_required("edit_flows")
def add_step(request, key):
    flow = get_object_or_404(Flow, key=key)
    kind, index = request.POST.get("type"), _int(request.POST.get("index"))
    if kind not in KINDS or index is None:
        messages.error(request, "Pick a step type to add.")
        return _back(flow)
    steps = draft_of(flow).definition.get("steps") or []
    step_id = (request.POST.get("id") or "").strip()[:200] or new_step_id(kind, steps)
    if not STEP_ID.match(step_id):
        messages.error(request, f"Step id '{step_id[:64]}': lower-case letters, digits and _, starting with a letter.")
        return _back(flow)
    try:
        editing.insert_step(flow, request.user, index, {"id": step_id, "type": kind, **KINDS[kind][1]})
    except editing.EditError as exc:
        messages.error(request, str(exc))
        return _back(flow)
    messages.success(request, f"Step {step_id} added: fill in its settings.")
    return _back(flow, index)


@require_POST
@capability_required("edit_flows")
def move_step(request, key):
    flow = get_object_or_404(Flow, key=key)
    index, to = _int(request.POST.get("index")), _int(request.POST.get("to"))
    try:
        editing.move_step(flow, request.user, index, to, base_hash=request.POST.get("base") or None)
    except editing.EditError as exc:
        messages.error(request, str(exc))
        return _back(flow)
    return _back(flow, to)


@require_POST
@capability_required("edit_flows")
def delete_step(request, key):
    flow = get_object_or_404(Flow, key=key)
    index = _int(request.POST.get("index"))
    try:
        editing.delete_step(flow, request.user, index, base_hash=request.POST.get("base") or None)
    except editing.EditError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Step deleted. Restoring the live version from Versions brings it back.")
    return _back(flow)
