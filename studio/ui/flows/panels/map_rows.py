"""The mapping editor's rows: one per target field (the canonical object's schema, else the
object of the deliver step that follows, plus any field already mapped), each with its row
kind, the value it would get on the sample, and warnings about types."""

import re
from dataclasses import dataclass, field

from integrations.canonical.fields import field_list
from integrations.canonical.registry import UnknownCanonicalObject, list_objects, list_versions, parse_ref
from integrations.connections.models import Connection
from integrations.connectors.registry import UnknownConnector, connector_class
from integrations.crosswalk.services import canonical_id
from integrations.flows import engine_api, suggest
from studio.ui.flows.panels.map_links import NotedLookups, links_for

KINDS = {"field": "Field", "constant": "Constant", "lookup": "Lookup", "template": "Template"}
BADGES = {"field": "F", "constant": "C", "lookup": "L", "template": "T"}
TO = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# What the engine's `type` conversion does (integrations/engine/coercion.py), said on the row.
COERCION_NOTES = {
    "string": "converted to text (true/false for booleans)",
    "integer": "converted to a whole number ('1,234' → 1234; 12.5 fails)",
    "number": "converted to a number ('1,234.50' → 1234.5)",
    "boolean": "converted to true/false (true/yes/y/1/on, false/no/n/0/off)",
    "date": "converted to an ISO date YYYY-MM-DD (from ISO text, a date-time or epoch seconds)",
    "datetime": "converted to an ISO 8601 date-time",
    "money": "converted to a number rounded half-up to 2 places",
}


@dataclass
class Target:
    to: str
    type: str = ""  # string, number, integer, boolean, date, datetime, object, array; "" = unknown
    required: bool = False
    description: str = ""
    choices: tuple = ()


@dataclass
class Row:
    target: Target
    position: int | None  # index in the step's fields, None when unmapped
    field: dict | None
    preview: engine_api.Preview | None = None
    warnings: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # part ("template", "from", "" for the row) → message

    @property
    def kind(self) -> str:
        return kind_of(self.field)

    @property
    def mapped(self) -> bool:
        return self.field is not None

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def badge(self) -> str:
        return BADGES[self.kind]

    @property
    def shown(self) -> str:
        """The row's source in one line: the path, the constant or the template."""
        mapping = self.field or {}
        if self.kind == "constant":
            value = mapping.get("constant", mapping.get("default"))
            return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        return str(mapping.get("template") or mapping.get("from") or "")

    @property
    def slug(self) -> str:
        return self.target.to.replace(".", "__")


def kind_of(mapping: dict | None) -> str:
    if not mapping:
        return "field"
    if "template" in mapping:
        return "template"
    if "value_map" in mapping or "crosswalk" in mapping:
        return "lookup"
    if "constant" in mapping or "from" not in mapping:
        return "constant"
    return "field"


def _canonical_type(info) -> str:
    fmt = info.constraints.get("format")
    if fmt in ("date", "date-time"):
        return "datetime" if fmt == "date-time" else "date"
    return info.types[0] if info.types else ""


def canonical_targets(ref: str) -> list[Target]:
    try:
        name, version = parse_ref(ref)
        infos = field_list(name, version)
    except (UnknownCanonicalObject, OSError):
        return []
    return [
        Target(i.path, _canonical_type(i), i.required, i.description, tuple(i.enum or ()))
        for i in infos
        if "[]" not in i.path and i.types != ("object",)
    ]


def connector_targets(definition: dict, index: int) -> tuple[list[Target], str]:
    """The fields of the object the next deliver step writes, and where they come from."""
    for step in (definition.get("steps") or [])[index + 1 :]:
        if not isinstance(step, dict) or step.get("type") != "deliver":
            continue
        kind = Connection.objects.filter(name=str(step.get("connection", ""))).values_list("kind", flat=True).first()
        try:
            spec = connector_class(kind or "").objects.get(str(step.get("object", "")))
        except UnknownConnector:
            spec = None
        if spec is None:
            return [], ""
        targets = [Target(f.name, f.type if f.type != "secret" else "string", f.required) for f in spec.fields]
        return targets, f"{step.get('connection')} · {spec.label}"
    return [], ""


def target_choices() -> list[str]:
    return [f"{name}@{version}" for name in list_objects() for version in list_versions(name)]


def build_rows(step: dict, targets: list[Target]) -> list[Row]:
    fields = [f for f in step.get("fields") or [] if isinstance(f, dict)]
    by_to = {str(f.get("to")): (i, f) for i, f in enumerate(fields)}
    rows = []
    for target in targets:
        position, mapping = by_to.pop(target.to, (None, None))
        rows.append(Row(target, position, mapping))
    for to, (position, mapping) in sorted(by_to.items(), key=lambda kv: kv[1][0]):
        rows.append(Row(Target(to), position, mapping))  # mapped to a name the target does not list
    return rows


def fill_previews(rows: list[Row], record: dict, value_maps: dict) -> None:
    """Every mapped row's value on the sample; the crosswalk rows' links read in one query."""
    mapped = [r for r in rows if r.field is not None]
    noted = NotedLookups()
    for row in mapped:
        if row.field and row.field.get("crosswalk"):
            engine_api.preview_field(row.field, record, value_maps, noted)
    crosswalk = links_for(noted.keys)
    for row in mapped:
        fill_preview(row, record, value_maps, crosswalk)


def fill_preview(row: Row, record: dict, value_maps: dict, crosswalk=canonical_id) -> None:
    row.preview = engine_api.preview_field(row.field, record, value_maps, crosswalk)
    if row.preview.error:
        row.errors.setdefault(row.preview.error_field, row.preview.error)
    row.warnings = type_warnings(row)


def type_warnings(row: Row) -> list[str]:
    """A value that does not fit the target's type: the conversion that will happen, or the one to choose."""
    preview, want = row.preview, row.target.type
    convert = (row.field or {}).get("type")
    if convert:
        return [f"{COERCION_NOTES.get(convert, convert)} (type: {convert})"]
    if preview is None or not preview.present or preview.value is None or not want:
        return []
    have = suggest.value_type(preview.value)
    fits, coercion = suggest.fit(have, want)
    if not fits:
        return [f"a {have or 'value'} does not fit {want}: choose a template or another source"]
    if coercion:
        pick = {"string": "string", "number": "number", "integer": "integer", "boolean": "boolean"}.get(want, want)
        return [f"{coercion} needed: set “Convert to” {pick}, otherwise the record fails its schema"]
    return []


def required_unmapped(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r.target.required and not r.mapped]


def suggestions(rows: list[Row], record: dict) -> list[suggest.Suggestion]:
    targets = [suggest.Target(r.target.to, r.target.type, r.target.required) for r in rows]
    used = {r.field.get("from") for r in rows if r.field and r.field.get("from")}
    sources = [s for s in suggest.sources_of(record) if s.path not in used]
    return suggest.suggest(targets, sources, {r.target.to for r in rows if r.mapped})
