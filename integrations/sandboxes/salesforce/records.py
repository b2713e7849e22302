"""Salesforce records in the sandbox store: ids from a per-SObject sequence, timestamps
in Salesforce's format, the `attributes` block, and query cursors (nextRecordsUrl)."""

from __future__ import annotations

import secrets
import string
from datetime import UTC

from django.db import transaction
from django.utils import timezone

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.models import SandboxRecord
from integrations.sandboxes.salesforce import DATA_PREFIX, VENDOR, ids
from integrations.sandboxes.salesforce.schema import SObject

_LOCATOR_CHARS = string.ascii_letters + string.digits


def stamp(moment=None) -> str:
    """Salesforce's datetime format: 2025-03-28T21:40:05.000+0000 (always UTC here)."""
    moment = (moment or timezone.now()).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def next_id(sobject: str) -> str:
    with transaction.atomic():
        row, _ = SandboxRecord.objects.select_for_update().get_or_create(
            vendor=VENDOR, object_type="_seq", record_id=sobject, defaults={"data": {"n": 0}}
        )
        row.data = {"n": row.data.get("n", 0) + 1}
        row.save(update_fields=["data", "updated_at"])
    return ids.make_id(sobject, row.data["n"])


def sequence(sobject: str) -> int:
    row = store.get(VENDOR, "_seq", sobject)
    return row.data.get("n", 0) if row else 0


def set_sequence(sobject: str, value: int) -> None:
    SandboxRecord.objects.update_or_create(
        vendor=VENDOR, object_type="_seq", record_id=sobject, defaults={"data": {"n": value}}
    )


def attributes(sobject: str, record_id: str) -> dict:
    return {"type": sobject, "url": f"{DATA_PREFIX}/sobjects/{sobject}/{record_id}"}


def shape(sobject: SObject, data: dict, fields: list[str] | None = None) -> dict:
    names = fields or list(sobject.fields)
    return {"attributes": attributes(sobject.name, data["Id"]), **{n: data.get(n) for n in names}}


def find(sobject: SObject, record_id: str) -> SandboxRecord | None:
    """By 18- or 15-character id (the short form is the case-sensitive prefix)."""
    rows = store.records(VENDOR, sobject.name)
    if len(record_id) == 15:
        return rows.filter(record_id__startswith=record_id).first()
    return rows.filter(record_id=record_id).first()


def by_external_id(sobject: SObject, field: str, value: str) -> list[SandboxRecord]:
    rows = store.records(VENDOR, sobject.name)
    if field == sobject.unique_external_id:
        return list(rows.select_for_update().filter(external_id=value))
    # Custom field names contain "__", which the ORM's JSON lookups read as nesting.
    return [r for r in rows.select_for_update() if str(r.data.get(field)) == value]


def new_record(sobject: SObject, values: dict) -> SandboxRecord:
    now = stamp()
    data = {name: None for name in sobject.fields}
    data.update(values, Id=next_id(sobject.name), CreatedDate=now, LastModifiedDate=now, SystemModstamp=now)
    external = data.get(sobject.unique_external_id)
    return store.create(VENDOR, sobject.name, data["Id"], data, external_id=str(external) if external else None)


def change(sobject: SObject, row: SandboxRecord, values: dict) -> SandboxRecord:
    now = stamp()
    row = store.update(row, {**values, "LastModifiedDate": now, "SystemModstamp": now})
    if sobject.unique_external_id in values:
        external = values[sobject.unique_external_id]
        row.external_id = str(external) if external else None
        row.save(update_fields=["external_id"])
    return row


# --- query cursors --------------------------------------------------------------------------
def save_cursor(sobject: str, fields: list[str], record_ids: list[str], batch: int) -> str:
    locator = "01g" + "".join(secrets.choice(_LOCATOR_CHARS) for _ in range(15))
    store.create(VENDOR, "_query", locator, {"sobject": sobject, "fields": fields, "ids": record_ids, "batch": batch})
    return locator


def load_cursor(locator: str) -> dict | None:
    row = store.get(VENDOR, "_query", locator)
    return row.data if row else None
