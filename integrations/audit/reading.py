"""Reading the audit log: each entry's before/after pairs as people and exports see them.

Read-only helpers; entries are written only by services.record and never changed. Secrets
are masked twice: by the writer (a secret field is stored as "••••" → "••••"), and here,
where any value under a secret-looking name (password, token, api key, credentials, …), at
any depth, is masked again, so an entry written by mistake with a secret inside never shows it."""

import difflib
import json
from dataclasses import dataclass
from typing import Any

from integrations.audit.services import REDACTED
from integrations.connectors.redaction import is_secret_name

NOT_SECRET_SUFFIXES = ("_type", "_url", "_uri", "_field", "_path", "_header", "_name")
MAX_DIFF_CHARS = 200_000  # larger values are shown side by side, cut, instead of diffed
DIFF_CONTEXT = 2  # unchanged lines kept around each change in a structured value's diff


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any
    masked: bool  # the values are secrets: shown only as changed

    @property
    def before_text(self) -> str:
        return as_text(self.before)

    @property
    def after_text(self) -> str:
        return as_text(self.after)

    @property
    def structured(self) -> bool:
        return isinstance(self.before, dict | list) or isinstance(self.after, dict | list)

    @property
    def diffable(self) -> bool:
        """Structured and small enough to diff line by line while the page renders."""
        return self.structured and len(self.before_text) + len(self.after_text) <= MAX_DIFF_CHARS

    def line_diff(self) -> list[tuple[str, str]]:
        """[(kind, line)] with kind "-", "+" or " " for a structured value; [] otherwise."""
        if not self.diffable:
            return []
        before, after = self.before_text.splitlines(), self.after_text.splitlines()
        lines: list[tuple[str, str]] = []
        for line in difflib.unified_diff(before, after, lineterm="", n=DIFF_CONTEXT):
            if line.startswith(("---", "+++")):
                continue
            if line.startswith("@@"):
                if lines:  # a gap between two hunks; the first hunk needs no marker
                    lines.append(("@", "…"))
                continue
            lines.append((line[:1], line[1:]))
        return lines


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def masked(value: Any) -> Any:
    return REDACTED if value not in (None, "") else value


def looks_secret(name: str) -> bool:
    """The connectors' secret-name net (password, token, api key, auth, …), minus names that
    only point at or describe a secret: auth_type, token_url, api_key_header, …"""
    return is_secret_name(name) and not name.lower().endswith(NOT_SECRET_SUFFIXES)


def unmasked_except_secrets(value: Any) -> Any:
    """JSON-like data with the value under every secret-looking key masked, at any depth."""
    if isinstance(value, dict):
        return {k: masked(v) if looks_secret(str(k)) else unmasked_except_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unmasked_except_secrets(v) for v in value]
    return value


def masked_changes(changes: Any) -> dict[str, list]:
    """{field: [before, after]} with every secret masked; a malformed entry reads as empty."""
    if not isinstance(changes, dict):
        return {}
    out = {}
    for field, pair in changes.items():
        before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        if looks_secret(str(field)):
            before, after = masked(before), masked(after)
        out[str(field)] = [unmasked_except_secrets(before), unmasked_except_secrets(after)]
    return out


def field_changes(changes: Any) -> list[FieldChange]:
    return [
        FieldChange(field, before, after, masked=REDACTED in (before, after))
        for field, (before, after) in masked_changes(changes).items()
    ]
