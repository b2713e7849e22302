"""When a worker's commit must reach the disk before it goes on (docs/RELIABILITY.md §5,
"Commits a worker may lose").

A PostgreSQL commit waits for the WAL to be flushed (`synchronous_commit = on`): on a plain
disk that is milliseconds, and a one-event run commits five or six times. A worker process
therefore commits its own bookkeeping asynchronously (`relax_commits`): each commit is
visible at once, and durable within a fraction of a second. What a crash of PostgreSQL
itself (not of a worker) can take back is only what a worker would redo anyway — a run's
step results and status, a delivery's result, a resumed run — because every write a worker
makes is re-executable from the state before it (claims, fences, idempotency keys).

One write may never be taken back: the claim of a delivery, made just before its request
leaves for the target. That commit is `durable()`: it waits for the flush, and since WAL is
written in order, it makes everything the worker committed before it durable too. So a
crash never forgets that a request may have been sent — the next attempt looks it up first
(§4) instead of posting again. Events are stored by the web process (or a poll) with
ordinary synchronous commits: an acknowledged event is on disk."""

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from django.db import connections, transaction
from django.db.backends.signals import connection_created

_RELAXED = "durability.relaxed"  # the session hook's dispatch uid


def relax_commits() -> None:
    """From now on, the PostgreSQL sessions this process opens commit asynchronously (a worker
    calls this at start). A session already open is left alone: in a pool process it is the
    parent's, inherited over fork, and must not be spoken to (Celery closes it)."""
    connection_created.connect(_relax_session, dispatch_uid=_RELAXED)


def restore_commits() -> None:
    """Sessions opened from now on wait for the disk again (the default)."""
    connection_created.disconnect(dispatch_uid=_RELAXED)


def _relax_session(sender, connection, **kwargs) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")


def durable(using: str = "default") -> AbstractContextManager[None]:
    """A transaction whose commit waits for the disk, whatever the session's setting (inside
    an outer transaction: that one's commit). On SQLite every commit is durable already."""
    return _committing(wait=True, using=using, leave_outer=False)


def relaxed(using: str = "default") -> AbstractContextManager[None]:
    """A transaction whose commit need not wait for the disk, in any process: for a write
    whose loss costs nothing but a repeat (a doorbell's "rung at" mark). Inside a caller's
    transaction it changes nothing: that commit is the caller's to make."""
    return _committing(wait=False, using=using, leave_outer=True)


@contextmanager
def _committing(*, wait: bool, using: str, leave_outer: bool) -> Iterator[None]:
    connection = connections[using]
    outer = connection.in_atomic_block
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql" and not (leave_outer and outer):
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL synchronous_commit TO {'on' if wait else 'off'}")
        yield
