"""CSV and JSON exports of the filtered audit log, streamed: rows are read in keyset
batches of BATCH (newest first), written and forgotten, so an export of a million entries
holds one batch in memory and no long-lived database cursor."""

import csv
import json
from collections.abc import Iterator

from django.db.models import Q

from integrations.audit.reading import masked_changes

BATCH = 500
COLUMNS = ("id", "at", "actor", "action", "object_type", "object_id", "object", "changes", "message")
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def entries(queryset, batch: int | None = None) -> Iterator:
    """Every entry of `queryset`, newest first, fetched in keyset batches."""
    batch = batch or BATCH
    page = queryset.order_by("-at", "-id")
    last = None
    while True:
        rest = page.filter(Q(at__lt=last.at) | Q(at=last.at, id__lt=last.id), at__lte=last.at) if last else page
        rows = list(rest[:batch])
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]


def as_record(entry) -> dict:
    return {
        "id": entry.pk,
        "at": entry.at.isoformat(),
        "actor": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object": entry.object_repr,
        "changes": masked_changes(entry.changes),
        "message": entry.message,
    }


def safe_cell(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return "'" + text if text.startswith(FORMULA_START) else text


class _Line:
    """A file-like sink for csv.writer that hands back what was just written."""

    def write(self, text: str) -> str:
        return text


def csv_lines(queryset) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    for entry in entries(queryset):
        record = as_record(entry)
        yield writer.writerow([safe_cell(record[column]) for column in COLUMNS])


def json_chunks(queryset) -> Iterator[str]:
    """One JSON array, written one entry at a time."""
    yield "["
    separator = "\n"
    for entry in entries(queryset):
        yield separator + json.dumps(as_record(entry), ensure_ascii=False, default=str)
        separator = ",\n"
    yield "\n]\n"
