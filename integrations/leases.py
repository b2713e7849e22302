"""The one claim, for runs, batch chunks and deliveries alike (docs/RELIABILITY.md §3).

A claim is one conditional UPDATE … RETURNING (PostgreSQL, and SQLite ≥ 3.35): a row that
is queued and due moves to running, takes a lease of SWITCHBOARD_LEASE_SECONDS, bumps its
fencing token and counts the attempt. Whoever's UPDATE matched owns the row until the lease
ends; every later write of that execution is conditional on the fence it got back, so a
worker that lost its lease writes nothing. A duplicate message finds nothing to claim.

The tables share the column names this needs: `fence`, `attempts`, `lease_until`,
`next_attempt_at` (NULL or past: due) and a state column (`status` for runs and chunks,
`state` for deliveries). Kernel module: imports no app."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, router
from django.db.models import Model

# A row whose lease ran out this many times is not retried again: its record is an exception
# (runs, chunks) or the delivery is dead `worker_lost`, so a record that kills its worker
# cannot loop (docs/RELIABILITY.md §11.3).
MAX_WORKER_LOSSES = 3


def redispatch_seconds() -> int:
    """A queued row enqueued this long ago and still not claimed is enqueued again by the
    dispatchers (its message was lost with the broker, or sits behind a dead worker)."""
    return int(settings.SWITCHBOARD_REDISPATCH_SECONDS)


def task_budget_seconds() -> float:
    """How long one message (a chunk of records, a chunk of deliveries) may keep working
    before it hands the rest on: half the task's soft time limit, so slow targets never run
    a task into its hard limit, which would be a worker loss."""
    return float(settings.CELERY_TASK_SOFT_TIME_LIMIT) / 2


def lease_seconds() -> int:
    """How long a claim owns its row: longer than a task's hard time limit, shorter than the
    broker's visibility timeout (studio/settings.py declares it)."""
    return int(settings.SWITCHBOARD_LEASE_SECONDS)


def lease_until(now: datetime) -> datetime:
    return now + timedelta(seconds=lease_seconds())


@dataclass(frozen=True)
class Claimed:
    """What the claiming UPDATE returned: the new fence and attempt count, then the
    `returning` columns in the order asked."""

    fence: int
    attempts: int
    values: tuple[object, ...] = ()


def claim(
    model: type[Model],
    pk: int,
    *,
    now: datetime,
    queued: Sequence[str],
    running: str,
    state_field: str = "status",
    take_over_expired: Mapping[str, str] | None = None,
    also: Mapping[str, str] | None = None,
    returning: Sequence[str] = (),
) -> Claimed | None:
    """Claim row `pk` of `model` if it is in a `queued` state and due; None if it is not (not
    due, already claimed, gone).

    `take_over_expired`: the row may also be claimed while `running` with a lease that ran out
    (its owner died); {column: SQL expression} is what such a takeover sets besides the claim
    (e.g. count a worker loss), read from the row as it was. `also`: {column: SQL expression}
    set on every claim. Expressions may use the parameters %(now)s and %(true)s."""
    db = router.db_for_write(model)
    connection = connections[db]
    ops = connection.ops
    quote = ops.quote_name
    state = quote(state_field)
    params = {
        "id": pk,
        "running": str(running),
        "now": ops.adapt_datetimefield_value(now),
        "lease_until": ops.adapt_datetimefield_value(lease_until(now)),
        "true": True,
    }
    queued_names = []
    for n, name in enumerate(queued):
        params[f"queued{n}"] = str(name)
        queued_names.append(f"%(queued{n})s")
    sets = []
    for column, expression in (take_over_expired or {}).items():
        sets.append(f"{quote(column)} = CASE WHEN {state} = %(running)s THEN {expression} ELSE {quote(column)} END")
    sets += [f"{quote(column)} = {expression}" for column, expression in (also or {}).items()]
    sets += [
        f"{state} = %(running)s",
        "lease_until = %(lease_until)s",
        "fence = fence + 1",
        "attempts = attempts + 1",
    ]
    due = f"({state} IN ({', '.join(queued_names)}) AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s))"
    if take_over_expired is not None:
        due += f" OR ({state} = %(running)s AND lease_until < %(now)s)"
    columns = ", ".join(["fence", "attempts", *(quote(c) for c in returning)])
    # Only quoted column names and the callers' fixed SQL expressions are formatted in;
    # every value is a parameter.
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {', '.join(sets)} "  # noqa: S608
        f"WHERE {quote(model._meta.pk.column)} = %(id)s AND ({due}) RETURNING {columns}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return Claimed(fence=row[0], attempts=row[1], values=tuple(row[2:]))
