"""The one claim, for runs, batch chunks and deliveries alike (docs/RELIABILITY.md §3).

A claim is one conditional UPDATE … RETURNING (PostgreSQL, and SQLite ≥ 3.35): a row that
is queued and due moves to running, takes a lease of SWITCHBOARD_LEASE_SECONDS, bumps its
fencing token and counts the attempt. Whoever's UPDATE matched owns the row until the lease
ends; every later write of that execution is conditional on the fence it got back, so a
worker that lost its lease writes nothing. A duplicate message finds nothing to claim.

The tables share the column names this needs: `fence`, `attempts`, `lease_until`,
`next_attempt_at` (NULL or past: due) and a state column (`status` for runs and chunks,
`state` for deliveries). Kernel module: imports no app."""

import logging
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic, sleep

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections, router
from django.db.models import Model
from django.utils import timezone

log = logging.getLogger(__name__)

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
    on_release: Mapping[str, str] | None = None,
    interrupted_delay: float = 0.0,
) -> Claimed | None:
    """Claim row `pk` of `model` if it is in a `queued` state and due; None if it is not (not
    due, already claimed, gone).

    `take_over_expired`: the row may also be claimed while `running` with a lease that ran out
    (its owner died); {column: SQL expression} is what such a takeover sets besides the claim
    (e.g. count a worker loss), read from the row as it was. `also`: {column: SQL expression}
    set on every claim. `on_release`: {column: SQL expression} also set when the claim is
    given back early (`holding()`), due `interrupted_delay` seconds later when the execution
    was interrupted. Expressions may use the parameters %(now)s and %(true)s."""
    db = router.db_for_write(model)
    connection = connections[db]
    ops = connection.ops
    quote = ops.quote_name
    state = quote(state_field)
    lease = lease_until(now)
    params = {
        "id": pk,
        "running": str(running),
        "now": ops.adapt_datetimefield_value(now),
        "lease_until": ops.adapt_datetimefield_value(lease),
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
    # Tracked before the UPDATE: if the connection dies before its answer arrives, the row
    # may be ours all the same, and `holding()` must be able to give it back.
    hold = Hold(model, pk, lease, state_field, str(running), str(queued[0]), dict(on_release or {}), interrupted_delay)
    track(hold)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        untrack(hold)
        return None
    return Claimed(fence=row[0], attempts=row[1], values=tuple(row[2:]))


def claim_many(
    model: type[Model],
    pks: Sequence[int],
    *,
    now: datetime,
    queued: Sequence[str],
    running: str,
    also: Mapping[str, str] | None = None,
    state_field: str = "status",
    returning: Sequence[str] = (),
    on_release: Mapping[str, str] | None = None,
    interrupted_delay: float = 0.0,
) -> dict[int, Claimed]:
    """`claim` for many rows in one UPDATE … RETURNING (a batch claim): {pk: Claimed} for the
    rows that were queued and due; each keeps its own lease and fence, exactly as if claimed
    alone. Rows another worker took first are simply missing from the answer. `state_field`,
    `returning`, `on_release` and `interrupted_delay` as for `claim`."""
    if not pks:
        return {}
    db = router.db_for_write(model)
    connection = connections[db]
    ops = connection.ops
    quote = ops.quote_name
    lease = lease_until(now)
    params: dict[str, object] = {
        "running": str(running),
        "now": ops.adapt_datetimefield_value(now),
        "lease_until": ops.adapt_datetimefield_value(lease),
        "true": True,
    }
    queued_names = []
    for n, name in enumerate(queued):
        params[f"queued{n}"] = str(name)
        queued_names.append(f"%(queued{n})s")
    id_names = []
    for n, pk in enumerate(pks):
        params[f"id{n}"] = int(pk)
        id_names.append(f"%(id{n})s")
    state = quote(state_field)
    sets = [f"{quote(column)} = {expression}" for column, expression in (also or {}).items()]
    sets += [f"{state} = %(running)s", "lease_until = %(lease_until)s", "fence = fence + 1", "attempts = attempts + 1"]
    pk_column = quote(model._meta.pk.column)
    columns = ", ".join([pk_column, "fence", "attempts", *(quote(c) for c in returning)])
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {', '.join(sets)} "  # noqa: S608 (names and fixed SQL only)
        f"WHERE {pk_column} IN ({', '.join(id_names)}) AND {state} IN ({', '.join(queued_names)}) "
        f"AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s) RETURNING {columns}"
    )
    given_back = dict(on_release or {})
    holds = {
        pk: Hold(model, pk, lease, state_field, str(running), str(queued[0]), given_back, interrupted_delay)
        for pk in pks
    }
    for hold in holds.values():
        track(hold)  # before the UPDATE, as in `claim`
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    claimed = {row[0]: Claimed(fence=row[1], attempts=row[2], values=tuple(row[3:])) for row in rows}
    for pk, hold in holds.items():
        if pk not in claimed:
            untrack(hold)
    return claimed


def write_fenced_many(
    model: type[Model],
    writes: Sequence[tuple[int, int, Mapping[str, object]]],
    *,
    running: str,
    state_field: str = "status",
) -> set[int]:
    """The fenced write that ends many executions at once: for each (pk, fence, {field:
    value}), the fields are written only where the row is still `running` under that fence,
    exactly as `filter(pk=, fence=, <state>=running).update(**fields)` row by row would.
    Returns the pks written; a row another execution took since is left alone.

    PostgreSQL: one `UPDATE … FROM (VALUES …) … RETURNING` per set of field names, so a
    worker's batch pays one round trip where it paid one per row. Elsewhere (SQLite, whose
    round trips cost nothing): row by row."""
    written: set[int] = set()
    if not writes:
        return written
    db = router.db_for_write(model)
    connection = connections[db]
    if connection.vendor != "postgresql":
        for pk, fence, fields in writes:
            if model._default_manager.filter(pk=pk, fence=fence, **{state_field: running}).update(**fields):
                written.add(pk)
        return written
    groups: dict[tuple[str, ...], list[tuple[int, int, Mapping[str, object]]]] = {}
    for write in writes:
        groups.setdefault(tuple(write[2]), []).append(write)
    quote = connection.ops.quote_name
    table, pk_column = quote(model._meta.db_table), quote(model._meta.pk.column)
    for names, rows in groups.items():
        fields = [model._meta.get_field(name) for name in names]
        columns = [quote(field.column) for field in fields]  # type: ignore[union-attr]
        # Every value is a parameter, cast to its column's type (a NULL in VALUES has none).
        row_sql = "(" + ", ".join(["%s::bigint", "%s::bigint", *(f"%s::{f.db_type(connection)}" for f in fields)]) + ")"
        params: list[object] = []
        for pk, fence, values in rows:
            params += [pk, fence]
            params += [f.get_db_prep_save(values[n], connection) for f, n in zip(fields, names, strict=True)]  # type: ignore[union-attr]
        params.append(str(running))
        sql = (
            f"UPDATE {table} AS t SET {', '.join(f'{c} = v.{c}' for c in columns)} "  # noqa: S608 (names only)
            f"FROM (VALUES {', '.join([row_sql] * len(rows))}) AS v(sb_pk, sb_fence, {', '.join(columns)}) "
            f"WHERE t.{pk_column} = v.sb_pk AND t.fence = v.sb_fence AND t.{quote(state_field)} = %s "
            f"RETURNING t.{pk_column}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            written |= {row[0] for row in cursor.fetchall()}
    return written


def hand_back(model: type[Model], pks: Sequence[int]) -> list[int]:
    """Give back claims of the current task that it will not execute after all (a stopping
    worker, or a batch out of time): queued and due now, attempt refunded, fence bumped.
    Returns the pks given back; they are also in the task's `Holding.released`."""
    if not _holdings:
        return []
    current = _holdings[-1]
    wanted = set(pks)
    mine = [hold for hold in current.holds if hold.model is model and hold.pk in wanted]
    released = [hold for hold in mine if release(hold)]
    for hold in mine:
        current.holds.remove(hold)
    current.released += released
    return [hold.pk for hold in released]


def held_for(model: type[Model], pk: int, *, running: str, now: datetime, state_field: str = "status") -> float | None:
    """Seconds since the live claim on row `pk` was made; None when no live lease holds it.
    (A claim sets `lease_until = claimed at + lease_seconds()`.)"""
    lease = (
        model._default_manager.filter(**{"pk": pk, state_field: running, "lease_until__gt": now})
        .values_list("lease_until", flat=True)
        .first()
    )
    return None if lease is None else max(0.0, lease_seconds() - (lease - now).total_seconds())


# --- Giving claims back early -------------------------------------------------------------
# A claim normally ends with its fenced write. Two things may stop an execution before that,
# and neither is a lost worker: the database going away (the execution cannot write its
# result) and a warm shutdown (the process is asked to stop). Waiting for the lease to run
# out would cost up to SWITCHBOARD_LEASE_SECONDS of latency and, for the sweeper, a worker
# loss that counts toward MAX_WORKER_LOSSES. So a task body runs inside `holding()`, which
# remembers every claim it makes and, when the body is interrupted, gives back the rows
# still held: queued and due again, lease cleared, attempt refunded, fence bumped (a late
# write of the interrupted execution matches no row). A database error is counted in the
# row's `db_errors`, never in `worker_losses` (docs/RELIABILITY.md §3).

DATABASE_ERRORS = (OperationalError, InterfaceError)  # the server or the connection went away


@dataclass(frozen=True)
class Hold:
    """A claim made inside `holding()`: the row and the lease this claim set (its own
    microsecond timestamp, so it matches the row only while this claim still holds it,
    even if the claiming UPDATE's answer was lost with the connection)."""

    model: type[Model]
    pk: int
    lease_until: datetime
    state_field: str
    running: str
    queued: str
    on_release: Mapping[str, str]
    # Seconds before a row taken from an interrupted execution is due again: a request it had
    # in flight may still land (a delivery's settle time), so the look-up must not come first.
    interrupted_delay: float = 0.0


class Holding:
    """The claims of one task body, and which of them were given back."""

    def __init__(self) -> None:
        self.holds: list[Hold] = []
        self.released: list[Hold] = []
        self.database_error = False
        self.stopped = False  # the process was asked to stop during this task

    def released_ids(self, model: type[Model]) -> list[int]:
        return [hold.pk for hold in self.released if hold.model is model]


_holdings: list[Holding] = []  # innermost last (an eager task may run inside another)
_stop = {"requested": False}


def track(hold: Hold) -> None:
    if _holdings:
        _holdings[-1].holds.append(hold)


def untrack(hold: Hold) -> None:
    if _holdings and hold in _holdings[-1].holds:
        _holdings[-1].holds.remove(hold)


@contextmanager
def holding(*, retry_at: Callable[[int], datetime] | None = None, database_wait_seconds: float | None = None):
    """Run a task body; yields its `Holding`.

    A database error escaping the body is logged, the database is waited for (up to
    `database_wait_seconds`, default the task budget) and the rows still held are given back
    with `db_errors + 1`, due at `retry_at(db_errors)` (the callers pass the one backoff
    policy, integrations/backoff.py; default: at once). The error is not re-raised, so the
    caller can ring for the released rows (`Holding.released`). SystemExit (a second SIGTERM,
    `on_sigterm`) gives the held rows back and propagates."""
    current = Holding()
    if not _holdings:
        ensure_stop_handler()
    _holdings.append(current)
    try:
        yield current
    except DATABASE_ERRORS as exc:
        current.database_error = True
        held = ", ".join(f"{h.model._meta.label} {h.pk}" for h in current.holds) or "nothing"
        log.warning("database error during a task (%s); holding %s; waiting for the database", exc, held)
        wait = task_budget_seconds() if database_wait_seconds is None else database_wait_seconds
        try:
            if not wait_for_database(wait):
                raise OperationalError(f"no answer within {wait:.0f} s")
            current.released = give_back(current.holds, database_error=True, retry_at=retry_at)
        except DATABASE_ERRORS as again:
            log.error("database still failing (%s): %s wait for the lease to run out", again, held)
    except (SystemExit, KeyboardInterrupt):
        with suppress(Exception):  # best effort: the process is going; the lease is the fallback
            current.released = give_back(current.holds, interrupted=True)
        raise
    # Any other exception (a bug, a soft time limit) leaves the rows to their lease: the sweeper
    # counts a worker loss, so a row that fails its task every time still ends at the cap.
    finally:
        _holdings.pop()
        if not _holdings:  # the task is over: its stop request is answered
            current.stopped, _stop["requested"] = _stop["requested"], False


def wait_for_database(seconds: float, *, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Reconnect until `SELECT 1` answers (True) or `seconds` have passed (False)."""
    connection = connections[using]
    deadline, pause = monotonic() + seconds, 0.2
    while True:
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()  # drop the broken connection, reconnect
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except DATABASE_ERRORS:
            if monotonic() + pause > deadline:
                return False
            sleep(pause)
            pause = min(pause * 2, 5.0)


def give_back(
    holds: Sequence[Hold],
    *,
    database_error: bool = False,
    interrupted: bool = False,
    retry_at: Callable[[int], datetime] | None = None,
) -> list[Hold]:
    """Release each hold still in force; returns those released (already finished rows, or
    rows a takeover claimed since, match nothing)."""
    released = [
        hold
        for hold in holds
        if release(hold, database_error=database_error, interrupted=interrupted, retry_at=retry_at)
    ]
    for hold in released:
        reason = "a database error" if database_error else "a shutdown"
        log.warning("%s %s given back after %s", hold.model._meta.label, hold.pk, reason)
    return released


def release(
    hold: Hold,
    *,
    database_error: bool = False,
    interrupted: bool = False,
    retry_at: Callable[[int], datetime] | None = None,
    now: datetime | None = None,
) -> bool:
    """One conditional UPDATE: the row goes back to `hold.queued`, due now (after a database
    error: at `retry_at(its count of them)`; interrupted: `hold.interrupted_delay` later),
    with its lease cleared, the attempt refunded, the fence bumped, and marked for the
    dispatcher (`enqueued_at` cleared)."""
    now = now or timezone.now()
    connection = connections[router.db_for_write(hold.model)]
    ops, quote = connection.ops, connection.ops.quote_name
    due = now + timedelta(seconds=hold.interrupted_delay) if interrupted else now
    if database_error and retry_at is not None:
        still_held = {"pk": hold.pk, hold.state_field: hold.running, "lease_until": hold.lease_until}
        errors = hold.model._default_manager.filter(**still_held).values_list("db_errors", flat=True).first()
        if errors is None:
            return False  # finished, or taken over since
        due = retry_at(errors + 1)
    params = {
        "id": hold.pk,
        "queued": str(hold.queued),
        "running": str(hold.running),
        "held": ops.adapt_datetimefield_value(hold.lease_until),
        "due": ops.adapt_datetimefield_value(due),
        "now": ops.adapt_datetimefield_value(now),
        "true": True,
    }
    state = quote(hold.state_field)
    sets = [
        f"{state} = %(queued)s",
        "lease_until = NULL",
        "fence = fence + 1",
        "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END",
        "next_attempt_at = %(due)s",
        "enqueued_at = NULL",
    ]
    if database_error:
        sets.append("db_errors = db_errors + 1")
    sets += [f"{quote(column)} = {expression}" for column, expression in hold.on_release.items()]
    sql = (
        f"UPDATE {quote(hold.model._meta.db_table)} SET {', '.join(sets)} "  # noqa: S608 (names and fixed SQL only)
        f"WHERE {quote(hold.model._meta.pk.column)} = %(id)s AND {state} = %(running)s AND lease_until = %(held)s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def stop_requested() -> bool:
    """True once this process was asked to stop during the current task: loops over many
    rows hand the rest back at their next row instead of finishing."""
    return _stop["requested"]


def request_stop() -> None:
    _stop["requested"] = True


# The SIGTERM handler the pool process had before ours (billiard's: exit through SystemExit,
# so `finally` blocks run). Idle, or told a second time, the process does what it did.
previous_sigterm_handler: dict[str, object] = {"handler": None, "wanted": False}


def on_sigterm(signum, frame) -> None:
    """SIGTERM in a pool process. In a task, the first asks it to hand its remaining rows
    back after the row in hand (`stop_requested`) and lets it finish that row: a posting is
    never cut in half. Idle, or a second time, the previous handler runs (the process exits;
    `holding()` gives back what the interrupted task holds)."""
    if _holdings and not _stop["requested"]:
        log.warning("SIGTERM during a task: handing its rows back after the one in hand")
        request_stop()
        return
    previous = previous_sigterm_handler["handler"]
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


def install_stop_handler() -> None:
    """Called in each Celery pool process as it starts (studio/celery.py). The pool resets
    its signal handlers after that, so `holding()` installs ours again at each task."""
    previous_sigterm_handler["wanted"] = True
    ensure_stop_handler()


def ensure_stop_handler() -> None:
    if previous_sigterm_handler["wanted"] and signal.getsignal(signal.SIGTERM) is not on_sigterm:
        previous_sigterm_handler["handler"] = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, on_sigterm)
