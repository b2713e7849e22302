"""HubSpot objects in the sandbox store: numeric ids, ISO timestamps, the
SimplePublicObject shape, and the unique property kept as the record's external id."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.hubspot import VENDOR
from integrations.sandboxes.hubspot.properties import ObjectType
from integrations.sandboxes.models import SandboxRecord

ID_BASE = {"deals": 18_290_000_000, "companies": 9_870_000_000, "contacts": 51_000}


def now_iso() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def next_number(sequence: str) -> int:
    """The next value of a named sequence kept in the database (shared by processes)."""
    with transaction.atomic():
        row, _ = SandboxRecord.objects.select_for_update().get_or_create(
            vendor=VENDOR, object_type="_seq", record_id=sequence, defaults={"data": {"n": 0}}
        )
        row.data = {"n": row.data.get("n", 0) + 1}
        row.save(update_fields=["data", "updated_at"])
    return row.data["n"]


def next_id(otype: ObjectType) -> str:
    return str(ID_BASE[otype.name] + next_number(otype.name))


def set_sequence(otype: str, value: int) -> None:
    store.records(VENDOR, "_seq").filter(record_id=otype).delete()
    store.create(VENDOR, "_seq", otype, {"n": value})


def make_data(otype: ObjectType, record_id: str, properties: dict, stamp: str, created: str | None = None) -> dict:
    created = created or stamp
    system = {"hs_object_id": record_id, "createdate": created, otype.modified: stamp}
    return {"properties": {**properties, **system}, "createdAt": created, "updatedAt": stamp, "archived": False,
            "associations": {}}  # fmt: skip


def external_of(otype: ObjectType, properties: dict) -> str | None:
    value = properties.get(otype.unique)
    return value.lower() if value and otype.unique == "email" else (value or None)


def find(otype: ObjectType, value: str, id_property: str | None = None) -> SandboxRecord | None:
    rows = store.records(VENDOR, otype.name).select_for_update()
    if id_property in (None, "", "hs_object_id"):
        return rows.filter(record_id=str(value)).first()
    return rows.filter(external_id=external_of(otype, {otype.unique: str(value)})).first()


def create(otype: ObjectType, properties: dict, associations: dict | None = None) -> SandboxRecord:
    record_id, stamp = next_id(otype), now_iso()
    data = make_data(otype, record_id, properties, stamp)
    data["associations"] = associations or {}
    return store.create(VENDOR, otype.name, record_id, data, external_id=external_of(otype, properties))


def update(otype: ObjectType, row: SandboxRecord, properties: dict) -> SandboxRecord:
    stamp = now_iso()
    merged = {**row.data["properties"], **properties, otype.modified: stamp}
    row = store.update(row, {"properties": merged, "updatedAt": stamp})
    if otype.unique in properties:
        row.external_id = external_of(otype, merged)
        row.save(update_fields=["external_id"])
    return row


def shape(otype: ObjectType, row: SandboxRecord, wanted: list[str] | None = None,
          associations: list[str] | None = None) -> dict:  # fmt: skip
    props = row.data["properties"]
    names = wanted or list(otype.defaults)
    always = ("hs_object_id", "createdate", otype.modified)
    selected = {n: props.get(n) for n in dict.fromkeys([*names, *always])}
    body = {"id": row.record_id, "properties": selected, "createdAt": row.data["createdAt"],
            "updatedAt": row.data["updatedAt"], "archived": False}  # fmt: skip
    if associations:
        linked = row.data.get("associations") or {}
        singular = otype.name.rstrip("s").replace("companie", "company")
        body["associations"] = {
            name: {"results": [{"id": i, "type": f"{singular}_to_{name.rstrip('s').replace('companie', 'company')}"}
                               for i in linked.get(name, [])]}
            for name in associations if linked.get(name)
        }  # fmt: skip
    return body
