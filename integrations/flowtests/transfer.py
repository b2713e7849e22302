"""Export and import of flow definitions as a JSON file.

The file holds, per flow, its key, name, description, tags and one definition (the draft by
default), plus the connections the definition names with their kind. Connections are bound
by name on import; their settings and credentials never travel, and a definition with a
secret-looking key is refused both ways. Import is planned first (what would be created or
changed, which connections are missing) and applied only when the plan has no problem, in
one transaction: all flows or none."""

import json
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from integrations.audit import services as audit
from integrations.audit.reading import looks_secret
from integrations.connections.models import Connection
from integrations.flows import services as flows
from integrations.flows.models import Flow
from integrations.flowtests.outputs import field_diff

FORMAT = "switchboard.flows"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 5_000_000
MAX_FLOWS = 500
_KEY = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")
# Definition words the secret-name net would catch but that hold no secret: a deliver step's
# `key` is the template of its idempotency key.
_NOT_SECRET = frozenset({"key"})


class ImportInvalid(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# -- export ---------------------------------------------------------------------------------


def connection_names(value) -> set[str]:
    """Every connection a definition names (triggers, look-ups, deliveries)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("connection"), str):
            found.add(value["connection"])
        for child in value.values():
            found |= connection_names(child)
    elif isinstance(value, list):
        for child in value:
            found |= connection_names(child)
    return found


def secret_keys(value, where: str = "definition") -> list[str]:
    """Locations of secret-looking keys (password, token, api key…) in a definition."""
    found = []
    if isinstance(value, dict):
        for key, child in value.items():
            if looks_secret(str(key)) and key not in _NOT_SECRET:
                found.append(f"{where}.{key}")
            found += secret_keys(child, f"{where}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += secret_keys(child, f"{where}[{index}]")
    return found


def definition_of(flow: Flow, which: str = "draft") -> dict:
    """The flow's draft (what the editor shows) or its live version, without creating anything."""
    version = flow.live_version if which == "live" else (flow.draft or flow.live_version)
    if version is None:
        raise ImportInvalid("version", f"flow {flow.key} has no {which} version")
    return version.definition


def export_flow(flow: Flow, which: str = "draft") -> dict:
    definition = definition_of(flow, which)
    if found := secret_keys(definition):
        raise ImportInvalid("definition", f"flow {flow.key} has secret-looking fields: {', '.join(found)}")
    names = sorted(connection_names(definition))
    kinds = dict(Connection.objects.filter(name__in=names).values_list("name", "kind"))
    return {
        "key": flow.key,
        "name": flow.name,
        "description": flow.description,
        "tags": list(flow.tags or []),
        "definition": definition,
        "connections": [{"name": n, "kind": kinds.get(n, "")} for n in names],
    }


def export_document(flows_to_export, which: str = "draft") -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(timespec="seconds"),
        "version": which,
        "flows": [export_flow(f, which) for f in flows_to_export],
    }


def dumps(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


# -- import ---------------------------------------------------------------------------------


@dataclass
class FlowPlan:
    key: str
    name: str
    action: str  # create | update | unchanged
    changes: list[dict] = field(default_factory=list)  # field-level: {"field", "expected"→before, "actual"→after}
    missing_connections: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # {"field", "message"}
    data: dict = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.missing_connections


@dataclass
class ImportPlan:
    flows: list[FlowPlan]

    @property
    def ok(self) -> bool:
        return bool(self.flows) and all(f.ok for f in self.flows)

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "flows": [
                {
                    "key": f.key,
                    "name": f.name,
                    "action": f.action,
                    "changes": [
                        {"field": c["field"], "before": c["expected"], "after": c["actual"]} for c in f.changes
                    ],
                    "missing_connections": f.missing_connections,
                    "errors": f.errors,
                }
                for f in self.flows
            ],
        }


def parse(raw) -> dict:
    """The file's bytes or text → the document; ImportInvalid("file", …) when it is not one."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_FILE_BYTES:
            raise ImportInvalid("file", f"larger than {MAX_FILE_BYTES:,} bytes")
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportInvalid("file", "not UTF-8 text: export files are UTF-8 JSON") from exc
    text = str(raw or "").strip()
    if not text:
        raise ImportInvalid("file", "empty: choose an export file or paste its contents")
    if len(text) > MAX_FILE_BYTES:
        raise ImportInvalid("file", f"larger than {MAX_FILE_BYTES:,} bytes")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ImportInvalid("file", f"not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportInvalid("file", f'not a Switchboard flow export ("format": "{FORMAT}" is missing)')
    if document.get("format_version") != FORMAT_VERSION:
        raise ImportInvalid("file", f"format_version {document.get('format_version')!r} is not supported")
    items = document.get("flows")
    if not isinstance(items, list) or not items:
        raise ImportInvalid("file", '"flows" must be a non-empty list')
    if len(items) > MAX_FLOWS:
        raise ImportInvalid("file", f"at most {MAX_FLOWS} flows per file")
    return document


def plan(document: dict) -> ImportPlan:
    known = set(Connection.objects.values_list("name", flat=True))
    existing = {f.key: f for f in Flow.objects.filter(key__in=[_key_of(i) for i in document["flows"]])}
    seen: set[str] = set()
    plans = []
    for index, item in enumerate(document["flows"]):
        plans.append(_plan_flow(index, item, existing, known, seen))
    return ImportPlan(plans)


def _key_of(item) -> str:
    return str(item.get("key", ""))[:64] if isinstance(item, dict) else ""


def _plan_flow(index: int, item, existing: dict, known: set[str], seen: set[str]) -> FlowPlan:
    where = f"flows[{index}]"
    if not isinstance(item, dict):
        return FlowPlan(f"#{index + 1}", "", "create", errors=[{"field": where, "message": "must be an object"}])
    data, errors = _clean(item, where)
    key = data.get("key") or f"#{index + 1}"
    if key in seen:
        errors.append({"field": f"{where}.key", "message": f"flow {key} appears twice in the file"})
    seen.add(key)
    definition = data.get("definition")
    missing = sorted(connection_names(definition) - known) if isinstance(definition, dict) else []
    current = existing.get(key)
    if current is None:
        return FlowPlan(key, data.get("name", ""), "create", [], missing, errors, data)
    before = {**_attributes(current), "definition": definition_of(current)}
    after = {k: data.get(k) for k in ("name", "description", "tags", "definition")}
    changes = field_diff(before, after) if not errors else []
    action = "update" if changes or errors else "unchanged"
    return FlowPlan(key, data.get("name", current.name), action, changes, missing, errors, data)


def _attributes(flow: Flow) -> dict:
    return {"name": flow.name, "description": flow.description, "tags": list(flow.tags or [])}


def _clean(item: dict, where: str) -> tuple[dict, list[dict]]:
    errors: list[dict] = []

    def bad(name: str, message: str) -> None:
        errors.append({"field": f"{where}.{name}", "message": message})

    key, name = item.get("key"), item.get("name")
    description, tags, definition = item.get("description", ""), item.get("tags", []), item.get("definition")
    if not isinstance(key, str) or not _KEY.match(key):
        bad("key", "letters, digits, '-' and '_' only, 1–64 characters")
        key = None
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        bad("name", "a name of 1–120 characters")
    if not isinstance(description, str) or len(description) > 10_000:
        bad("description", "text of at most 10,000 characters")
    if not isinstance(tags, list) or len(tags) > 50 or not all(isinstance(t, str) and len(t) <= 50 for t in tags):
        bad("tags", "a list of at most 50 short texts")
    if not isinstance(definition, dict):
        bad("definition", "must be a JSON object")
    else:
        for problem in secret_keys(definition, f"{where}.definition"):
            errors.append({"field": problem, "message": "secret-looking field: secrets never travel in export files"})
        for e in flows.validate(definition):
            where_in = f"{where}.definition.{e['field']}" if e.get("field") else f"{where}.definition"
            errors.append({"field": where_in, "message": e["message"]})
    return {"key": key, "name": name, "description": description, "tags": tags, "definition": definition}, errors


@transaction.atomic
def apply(document: dict, user) -> ImportPlan:
    """Import every flow of the document as a draft (creating the flow when it is new); refused
    with ImportInvalid, writing nothing, unless the plan has no problem."""
    found = plan(document)
    if not found.ok:
        raise ImportInvalid("file", "the import has problems: fix them (see the dry run) and import again")
    for item in found.flows:
        data = item.data
        if item.action == "create":
            flows.create_flow(
                user,
                key=data["key"],
                name=data["name"],
                description=data["description"],
                tags=data["tags"],
                definition=data["definition"],
            )
        elif item.action == "update":
            current = Flow.objects.get(key=data["key"])
            if _attributes(current) != {k: data[k] for k in ("name", "description", "tags")}:
                flows.update_flow(current, user, name=data["name"], description=data["description"], tags=data["tags"])
            if definition_of(current) != data["definition"]:
                flows.save_draft(current, user, data["definition"])
        audit.record(
            user, "flow.import", object_type="flows.flow", object_id=item.key, message=f"{item.action}: {item.key}"
        )
    return found
