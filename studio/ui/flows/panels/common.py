"""What the map, route and approve panels share: the step being edited and its sample input,
saving a step through the draft-editing service, the engine's errors for one step, and text
input that is refused (as a form error) when it cannot be stored."""

import re
from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import get_object_or_404

from integrations.flows import editing, engine_api, services
from integrations.flows.models import Flow
from studio.permissions import can
from studio.ui.flows.sample_input import explain

_STEP_ERROR = re.compile(r"^steps\[(\d+)\]\.?(.*)$")
# Characters PostgreSQL cannot keep in a JSON document (NUL) or that are not text at all (lone surrogates).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass
class StepContext:
    flow: Flow
    draft: object
    index: int
    step: dict
    record: dict  # the sample input this step receives
    sample_source: str
    sample_problem: str
    can_edit: bool

    @property
    def definition(self) -> dict:
        return self.draft.definition if isinstance(self.draft.definition, dict) else {}

    @property
    def step_ids_after(self) -> list[str]:
        steps = self.definition.get("steps") or []
        return [s.get("id") for s in steps[self.index + 1 :] if isinstance(s, dict) and isinstance(s.get("id"), str)]


def load(request, flow, draft, index: int, kind: str) -> StepContext:
    steps = draft.definition.get("steps") if isinstance(draft.definition, dict) else None
    if not isinstance(steps, list) or not 0 <= index < len(steps) or not isinstance(steps[index], dict):
        raise Http404(f"This flow's draft has no step {index}.")
    step = steps[index]
    if step.get("type") != kind:
        raise Http404(f"Step {index} is not a {kind} step.")
    sample = explain(flow, draft, index)
    return StepContext(
        flow, draft, index, step, sample.record, sample.source, sample.problem, can(request.user, "edit_flows")
    )


def load_by_key(request, key: str, index: int, kind: str) -> StepContext:
    flow = get_object_or_404(Flow, key=key)
    return load(request, flow, services.draft_of(flow), index, kind)


def save_step(ctx: StepContext, user, step: dict) -> tuple[list[dict], str]:
    """Write the step into the draft; (the engine's errors for this step, an edit problem)."""
    try:
        draft, errors = editing.replace_step(ctx.flow, user, ctx.index, step)
    except editing.EditError as exc:
        return [], exc.message
    ctx.draft, ctx.step = draft, step
    return step_errors(errors, ctx.index), ""


def step_errors(errors: list[dict], index: int) -> list[dict]:
    """The errors of step `index`, each with `part`: its field inside the step (`fields[2].template`)."""
    found = []
    for error in errors or []:
        match = _STEP_ERROR.match(error.get("field") or "")
        if match and int(match[1]) == index:
            found.append({**error, "part": match[2]})
    return found


def draft_errors(ctx: StepContext) -> list[dict]:
    return step_errors(engine_api.definition_errors(ctx.definition), ctx.index)


def clean_text(value, *, label: str, max_length: int, required: bool = False) -> tuple[str, str]:
    """(text, '') or ('', error): trimmed, bounded, storable."""
    text = value if isinstance(value, str) else ""
    text = text.strip()
    if _UNSTORABLE.search(text):
        return "", f"{label} contains a character that cannot be stored (a NUL or broken character)"
    if len(text) > max_length:
        return "", f"{label} is too long: at most {max_length:,} characters ({len(text):,} given)"
    if required and not text:
        return "", f"{label} is required"
    return text, ""
