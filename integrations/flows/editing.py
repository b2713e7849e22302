"""Small edits to a flow's draft, one part at a time, for the studio's panels and the API.

Each function reads the draft under the flow's row lock, changes one part (a step, the
trigger, a top-level setting), and saves it through `services.save_draft(strict=False)`:
a draft may be invalid while it is being edited, and the errors come back with it.
Every edit is audited with the diff of the part it changed, not the whole definition.

All functions return `(draft, errors)` like `save_draft`. `base_hash`, when given, is the
draft's content hash the editor started from: an edit made on a stale page is refused
(StaleDraft) instead of silently undoing someone else's change."""

import copy
from collections.abc import Callable

from django.db import transaction

from integrations.flows import services
from integrations.flows.models import Flow

# Top-level keys of a definition that set_settings may change; steps and trigger have their own functions.
SETTING_KEYS = ("name", "description", "value_maps", "for_each")


class EditError(ValueError):
    """The edit itself cannot be applied (an index out of range, a step that is not an object)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class StaleDraft(EditError):
    """The draft changed since the editor loaded it."""

    def __init__(self):
        super().__init__("draft", "the draft was changed by someone else; reload to see their change")


def _steps(definition: dict) -> list:
    steps = definition.get("steps")
    if not isinstance(steps, list):
        steps = definition["steps"] = []
    return steps


def _index(steps: list, index, *, field: str = "index", allow_end: bool = False) -> int:
    if isinstance(index, bool) or not isinstance(index, int):
        raise EditError(field, "must be a whole number")
    top = len(steps) if allow_end else len(steps) - 1
    if not 0 <= index <= top:
        raise EditError(field, f"{index} is out of range 0-{top}" if top >= 0 else "the flow has no steps")
    return index


def _object(value, field: str) -> dict:
    if not isinstance(value, dict):
        raise EditError(field, "must be an object")
    return copy.deepcopy(value)


@transaction.atomic
def _edit(flow: Flow, user, action: str, change: Callable[[dict], dict], base_hash: str | None):
    """Lock, apply `change` to a copy of the draft's definition, save, audit.
    `change` returns the audit diff ({part: [before, after]})."""
    locked = Flow.objects.select_for_update().get(pk=flow.pk)
    draft = services.draft_of(locked)
    if base_hash is not None and base_hash != draft.content_hash:
        raise StaleDraft()
    definition = copy.deepcopy(draft.definition) if isinstance(draft.definition, dict) else {}
    changes = change(definition)
    return services.save_draft(locked, user, definition, strict=False, action=action, changes=changes)


def replace_step(flow: Flow, user, index: int, step: dict, *, base_hash: str | None = None):
    """Put `step` in place of the step at `index` (the panels save a whole step at once)."""
    new = _object(step, "step")

    def change(definition):
        steps = _steps(definition)
        at = _index(steps, index)
        old, steps[at] = steps[at], new
        return {f"steps[{at}]": [old, new]}

    return _edit(flow, user, "flow.step.update", change, base_hash)


def insert_step(flow: Flow, user, index: int, step: dict, *, base_hash: str | None = None):
    """Insert `step` before the step at `index`; index == number of steps appends."""
    new = _object(step, "step")

    def change(definition):
        steps = _steps(definition)
        at = _index(steps, index, allow_end=True)
        steps.insert(at, new)
        return {f"steps[{at}]": [None, new]}

    return _edit(flow, user, "flow.step.add", change, base_hash)


def move_step(flow: Flow, user, index: int, to_index: int, *, base_hash: str | None = None):
    """Move the step at `index` so that it ends at position `to_index`."""

    def change(definition):
        steps = _steps(definition)
        at = _index(steps, index)
        to = _index(steps, to_index, field="to_index")
        before = _ids(steps)
        steps.insert(to, steps.pop(at))
        return {"order": [before, _ids(steps)]}

    return _edit(flow, user, "flow.step.move", change, base_hash)


def _ids(steps: list) -> list:
    return [s.get("id") if isinstance(s, dict) else None for s in steps]


def delete_step(flow: Flow, user, index: int, *, base_hash: str | None = None):
    def change(definition):
        steps = _steps(definition)
        at = _index(steps, index)
        old = steps.pop(at)
        return {f"steps[{at}]": [old, None]}

    return _edit(flow, user, "flow.step.delete", change, base_hash)


def set_trigger(flow: Flow, user, trigger: dict, *, base_hash: str | None = None):
    new = _object(trigger, "trigger")

    def change(definition):
        old = definition.get("trigger")
        definition["trigger"] = new
        return {"trigger": [old, new]}

    return _edit(flow, user, "flow.trigger.update", change, base_hash)


def set_settings(flow: Flow, user, *, base_hash: str | None = None, **settings):
    """Top-level parts of the definition: name, description, value_maps, for_each.
    A value of None removes the key (e.g. for_each=None makes a batch flow a one-record flow)."""
    unknown = sorted(set(settings) - set(SETTING_KEYS))
    if unknown:
        raise EditError(unknown[0], f"is not a definition setting (allowed: {', '.join(SETTING_KEYS)})")

    def change(definition):
        diff = {}
        for key, value in settings.items():
            old = definition.get(key)
            if value is None:
                definition.pop(key, None)
            else:
                definition[key] = copy.deepcopy(value)
            if old != value:
                diff[key] = [old, value]
        return diff

    return _edit(flow, user, "flow.settings.update", change, base_hash)


def restore_version(flow: Flow, user, number: int, *, base_hash: str | None = None):
    """Make a published version's definition the draft again: history is never rewritten,
    the restored definition is published later as a new version number."""
    version = flow.versions.filter(state="published", number=number).first()
    if version is None:
        raise EditError("version", f"flow {flow.key} has no published version {number}")

    def change(definition):
        before = copy.deepcopy(definition)
        definition.clear()
        definition.update(copy.deepcopy(version.definition))
        return {"restored_from": [None, number], "definition": [before, version.definition]}

    return _edit(flow, user, "flow.version.restore", change, base_hash)
