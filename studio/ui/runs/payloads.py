"""Step payloads as the run page shows them: pretty, with secret-looking fields masked, and
never more than PREVIEW_CHARS of one payload inline. The database cuts a large payload
before it leaves the server (a 5 MB record is never parsed to draw the page); the whole
payload is a "load full" or a download away."""

import json
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import TextField
from django.db.models.functions import Cast, Left

from integrations.connectors.redaction import MASK, is_secret_name, redact_data

PREVIEW_CHARS = 64 * 1024
DIFF_LIMIT = 300  # changed paths listed in one diff
VALUE_CHARS = 200  # of one value in the diff
SIDES = ("input", "output")
# "name": "value" pairs of a cut (hence unparseable) JSON text, for masking by name.
_STRING_PAIR = re.compile(r'"((?:[^"\\]|\\.){1,200})"(\s*:\s*)"((?:[^"\\]|\\.)*)"')


@dataclass
class Payload:
    text: str
    truncated: bool
    empty: bool = False
    data: Any = None  # parsed, when it was small enough to parse


def with_heads(steps):
    """StepRun queryset → the same rows with `<side>_head`, the first PREVIEW_CHARS + 1
    characters of the JSON text, instead of the payloads themselves. (Its whole length is
    not asked for: PostgreSQL would turn the payload into text a second time.)"""
    heads = {f"{side}_head": Left(Cast(side, TextField()), PREVIEW_CHARS + 1) for side in SIDES}
    return steps.defer(*SIDES).annotate(**heads)


def preview(head: str | None) -> Payload:
    if head is None or head == "null":
        return Payload("", False, empty=True)
    if len(head) <= PREVIEW_CHARS:
        data = redact_data(json.loads(head))
        return Payload(pretty(data), False, data=data)
    return Payload(mask_cut(head[:PREVIEW_CHARS]), True)


def pretty(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)


def full(value: Any) -> str:
    return pretty(redact_data(value)) if value is not None else ""


def mask_cut(text: str) -> str:
    """Mask the values under secret-looking names in JSON text that may end mid-way."""
    return _STRING_PAIR.sub(lambda m: f'"{m[1]}"{m[2]}"{MASK}"' if is_secret_name(m[1]) else m[0], text)


@dataclass
class Change:
    path: str
    kind: str  # added, removed, changed
    before: str
    after: str


def diff(before: Any, after: Any) -> list[Change]:
    """Fields the step added, removed or changed, by dotted path (lists by index)."""
    old, new = dict(_leaves(before)), dict(_leaves(after))
    changes = []
    for path in sorted(old.keys() | new.keys()):
        if path not in new:
            changes.append(Change(path, "removed", _short(old[path]), ""))
        elif path not in old:
            changes.append(Change(path, "added", "", _short(new[path])))
        elif old[path] != new[path]:
            changes.append(Change(path, "changed", _short(old[path]), _short(new[path])))
        if len(changes) >= DIFF_LIMIT:
            break
    return changes


def _leaves(value: Any, prefix: str = ""):
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, f"{prefix}[{index}]")
    else:
        yield (prefix or "(record)"), value


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS] + "…"
