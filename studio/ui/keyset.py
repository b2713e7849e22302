"""Keyset pagination for long, newest-first lists (audit log, runs): the page after a row
is "rows strictly older than (at, id)", so a page costs the same at row 10 or 10^6 and
rows inserted meanwhile never shift what the next page shows."""

import base64
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet


@dataclass
class Page:
    rows: list
    next_cursor: str | None


def encode(at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{pk}".encode()).decode()


def decode(cursor: str) -> tuple[datetime, int] | None:
    """None for a cursor that is not one of ours (the list then starts from the top)."""
    try:
        at, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), int(pk)
    except (ValueError, UnicodeDecodeError):
        return None


def paginate(queryset: QuerySet, cursor: str | None, size: int, field: str = "at") -> Page:
    """`queryset` is ordered by (-field, -id); returns one page and the cursor of the next."""
    position = decode(cursor) if cursor else None
    if position:
        at, pk = position
        # The redundant `<= at` bounds the index scan: an OR alone makes PostgreSQL walk from the top.
        queryset = queryset.filter(Q(**{f"{field}__lt": at}) | Q(**{field: at, "id__lt": pk}), **{f"{field}__lte": at})
    rows = list(queryset.order_by(f"-{field}", "-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, encode(getattr(rows[-1], field), rows[-1].id) if more else None)
