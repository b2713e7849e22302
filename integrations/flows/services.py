"""Flow lifecycle: create, edit the draft, publish an immutable version, pause/activate.

Every change is audited in the same transaction as the change, and announced through
flows/hooks.py to the apps above (the triggers app keeps the flow's schedule in step,
the runtime forgets its cached live version)."""

import hashlib
import json

from django.db import connection, transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from integrations.audit import services as audit
from integrations.flows import engine_api
from integrations.flows.choices import FlowStatus, VersionState
from integrations.flows.hooks import settings_changed, status_changed, version_published
from integrations.flows.models import Flow, FlowVersion

EMPTY_DEFINITION = {"trigger": {"type": "manual"}, "steps": []}


class DraftInvalid(Exception):
    """The definition has errors; `errors` is a list of {step_id, field, message}."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(f"{e['step_id'] or '-'}.{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def person(actor):
    """Services take a user or a system actor string ('system:seed_demo'); FKs get users only."""
    return actor if getattr(actor, "pk", None) else None


def content_hash(definition: dict) -> str:
    return hashlib.sha256(json.dumps(definition, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def validate(definition) -> list[dict]:
    if not isinstance(definition, dict):
        return [{"step_id": None, "field": "definition", "message": "must be a JSON object"}]
    return engine_api.errors_as_dicts(engine_api.validate_definition(definition))


@transaction.atomic
def create_flow(user, *, key: str, name: str, description: str = "", tags=(), definition=None) -> Flow:
    if definition is None:
        definition = EMPTY_DEFINITION  # a blank draft: the editor fills in the steps
    elif errors := validate(definition):
        raise DraftInvalid(errors)
    flow = Flow.objects.create(key=key, name=name, description=description, tags=list(tags), owner=person(user))
    FlowVersion.objects.create(
        flow=flow, definition=definition, content_hash=content_hash(definition), created_by=person(user)
    )
    audit.record(user, "flow.create", flow, after={"key": key, "name": name, "description": description})
    return flow


def draft_of(flow: Flow) -> FlowVersion:
    """The flow's draft, created from the newest published version if there is none."""
    draft = flow.draft
    if draft is None:
        base = flow.live_version
        definition = base.definition if base else EMPTY_DEFINITION
        draft = FlowVersion.objects.create(flow=flow, definition=definition, content_hash=content_hash(definition))
    return draft


@transaction.atomic
def save_draft(
    flow: Flow,
    user,
    definition,
    *,
    notes: str | None = None,
    strict: bool = True,
    action: str = "flow.draft.update",
    changes: dict | None = None,
):
    """Replace the draft's definition. strict: refuse a definition with errors (raises
    DraftInvalid); otherwise save it anyway and return the errors for the editor to show.
    `action`/`changes`: the audit entry of a partial edit (flows/editing.py) names what it changed."""
    errors = validate(definition)
    if errors and (strict or not isinstance(definition, dict)):
        raise DraftInvalid(errors)
    draft = draft_of(Flow.objects.select_for_update().get(pk=flow.pk))
    before = draft.definition
    draft.definition = definition
    draft.content_hash = content_hash(definition)
    if notes is not None:
        draft.notes = notes
    draft.save()
    audit.record(user, action, draft, changes=changes if changes is not None else {"definition": [before, definition]})
    return draft, errors


@transaction.atomic
def update_flow(flow: Flow, user, **fields) -> Flow:
    """name, description, tags, owner, invoke_delivers_inline."""
    before = {k: getattr(flow, k) for k in fields}
    for key, value in fields.items():
        setattr(flow, key, value)
    flow.save()
    audit.record(user, "flow.update", flow, before=_plain(before), after=_plain(fields))
    settings_changed.send(flow=flow)
    return flow


def _plain(values: dict) -> dict:
    return {k: (getattr(v, "pk", v)) for k, v in values.items()}


@transaction.atomic
def publish(flow: Flow, user, *, notes: str = "") -> FlowVersion:
    """Compile the draft and freeze it as the next numbered version; a fresh draft follows."""
    flow = Flow.objects.select_for_update().get(pk=flow.pk)
    draft = flow.draft
    if draft is None:
        raise DraftInvalid([{"step_id": None, "field": "draft", "message": "the flow has no draft to publish"}])
    if errors := validate(draft.definition):
        raise DraftInvalid(errors)
    try:
        engine_api.compile_flow(draft.definition)
    except engine_api.DefinitionInvalid as exc:
        raise DraftInvalid(engine_api.errors_as_dicts(exc.errors)) from exc
    number = (flow.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft.state, draft.number = VersionState.PUBLISHED, number
    draft.published_by, draft.published_at = person(user), timezone.now()
    draft.notes = notes or draft.notes
    draft.content_hash = content_hash(draft.definition)
    draft.save()
    FlowVersion.objects.create(
        flow=flow, definition=draft.definition, content_hash=draft.content_hash, created_by=person(user)
    )
    if flow.status == FlowStatus.DRAFT:
        flow.status = FlowStatus.ACTIVE
        flow.save(update_fields=["status", "updated_at"])
    audit.record(user, "flow.publish", draft, after={"number": number, "notes": draft.notes}, message=f"v{number}")
    version_published.send(flow=flow, version=draft)
    return draft


@transaction.atomic
def set_status(flow: Flow, user, status: str) -> Flow:
    if status not in (FlowStatus.ACTIVE, FlowStatus.PAUSED):
        raise ValueError("status must be 'active' or 'paused'")
    if status == FlowStatus.ACTIVE and flow.live_version is None:
        raise ValueError("publish a version before activating the flow")
    before = flow.status
    flow.status = status
    flow.save(update_fields=["status", "updated_at"])
    audit.record(
        user,
        f"flow.{'activate' if status == 'active' else 'pause'}",
        flow,
        before={"status": before},
        after={"status": status},
    )
    status_changed.send(flow=flow)
    return flow


# The trigger of a version, by database: the query below narrows by source in SQL and the
# exact match is checked in Python (`_triggered_by`), as before.
_TRIGGER_FIELD = {
    "postgresql": "v.definition -> 'trigger' ->> '{key}'",
    "sqlite": "json_extract(v.definition, '$.trigger.{key}')",
}
_MATCHING_SQL = """
SELECT v.* FROM {versions} v JOIN {flows} f ON f.id = v.flow_id
WHERE v.state = %s AND f.status = %s AND {type} = 'event' AND {connection} = %s
  AND v.number = (SELECT MAX(n.number) FROM {versions} n WHERE n.flow_id = v.flow_id AND n.state = %s)
ORDER BY f.key"""


def matching_versions(source: str, event_type: str) -> list[FlowVersion]:
    """Live versions of active flows whose event trigger matches this source and type.

    One query for every flow (it is asked once per event received): the newest published
    version of each active flow whose trigger is an event of this source. Written in SQL
    because building the same query with the ORM (a subquery and JSON key lookups) cost
    over a millisecond of CPU per event, most of the intake's own work."""
    field = _TRIGGER_FIELD.get(connection.vendor)
    if field is None:  # another database: the ORM builds it
        newest = (
            FlowVersion.objects.filter(flow=OuterRef("flow"), state=VersionState.PUBLISHED)
            .order_by("-number")
            .values("number")[:1]
        )
        live = FlowVersion.objects.filter(
            state=VersionState.PUBLISHED,
            flow__status=FlowStatus.ACTIVE,
            number=Subquery(newest),
            definition__trigger__type="event",
            definition__trigger__connection=source,
        ).order_by("flow__key")
    else:
        sql = _MATCHING_SQL.format(
            versions=connection.ops.quote_name(FlowVersion._meta.db_table),
            flows=connection.ops.quote_name(Flow._meta.db_table),
            type=field.format(key="type"),
            connection=field.format(key="connection"),
        )
        params = [VersionState.PUBLISHED, FlowStatus.ACTIVE, source, VersionState.PUBLISHED]
        live = FlowVersion.objects.raw(sql, params)
    return [v for v in live if _triggered_by(v.definition, source, event_type)]


def _triggered_by(definition, source: str, event_type: str) -> bool:
    trigger = (definition or {}).get("trigger") or {}
    return (
        trigger.get("type") == "event"
        and trigger.get("connection") == source
        and trigger.get("event") in (None, "*", event_type)
    )
