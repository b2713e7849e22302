"""Record storage helpers for vendor sandboxes: ids, create, upsert by external id,
changed-since queries with offset paging. Vendors shape the JSON; this keeps the rows."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from integrations.sandboxes.models import SandboxRecord


def records(vendor: str, object_type: str) -> QuerySet[SandboxRecord]:
    return SandboxRecord.objects.filter(vendor=vendor, object_type=object_type)


def get(vendor: str, object_type: str, record_id: str) -> SandboxRecord | None:
    return records(vendor, object_type).filter(record_id=str(record_id)).first()


def get_by_external_id(vendor: str, object_type: str, external_id: str) -> SandboxRecord | None:
    return records(vendor, object_type).filter(external_id=str(external_id)).first()


def next_number(vendor: str, object_type: str, start: int = 1000) -> int:
    """A number above every numeric id stored so far (for vendors with numeric ids)."""
    ids = records(vendor, object_type).values_list("record_id", flat=True)
    numbers = [int(i) for i in ids if str(i).isdigit()]
    return max(numbers, default=start) + 1


def create(vendor: str, object_type: str, record_id: str, data: dict, external_id: str | None = None) -> SandboxRecord:
    return SandboxRecord.objects.create(
        vendor=vendor, object_type=object_type, record_id=str(record_id), data=data, external_id=external_id
    )


def update(record: SandboxRecord, changes: dict) -> SandboxRecord:
    record.data = {**record.data, **changes}
    record.version = F("version") + 1
    record.save(update_fields=["data", "version", "updated_at"])
    record.refresh_from_db(fields=["version", "updated_at"])
    return record


def upsert(vendor: str, object_type: str, external_id: str, data: dict, new_id) -> tuple[SandboxRecord, bool]:
    """(record, created): one record per external id even under concurrent calls.

    `new_id` is a callable giving the id for a new record."""
    for _ in range(2):
        try:
            with transaction.atomic():
                existing = records(vendor, object_type).select_for_update().filter(external_id=str(external_id)).first()
                if existing is not None:
                    return update(existing, data), False
                return create(vendor, object_type, new_id(), data, external_id=str(external_id)), True
        except IntegrityError:
            continue  # a concurrent upsert created it first: the second pass updates it
    raise IntegrityError(f"upsert of {vendor}/{object_type} {external_id} kept conflicting")


def changed_since(vendor: str, object_type: str, since: datetime | None = None) -> QuerySet[SandboxRecord]:
    qs = records(vendor, object_type)
    if since is not None:
        qs = qs.filter(updated_at__gt=since)
    return qs.order_by("updated_at", "id")


def page(qs: QuerySet[SandboxRecord], offset: int, limit: int) -> tuple[list[SandboxRecord], bool]:
    """(rows, has_more) for offset paging."""
    rows = list(qs[offset : offset + limit + 1])
    return rows[:limit], len(rows) > limit


def bulk_load(vendor: str, object_type: str, rows: Iterable[tuple[str, dict, str | None]], batch: int = 2000) -> int:
    """Insert many (record_id, data, external_id) rows fast; used by seeders."""
    total = 0
    now = timezone.now()
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, batch)):
        SandboxRecord.objects.bulk_create(
            SandboxRecord(
                vendor=vendor,
                object_type=object_type,
                record_id=str(rid),
                data=data,
                external_id=ext,
                created_at=now,
                updated_at=now,
            )
            for rid, data, ext in chunk
        )
        total += len(chunk)
    return total
