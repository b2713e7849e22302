"""One attempt at each delivery of a chunk: hold check → throttle → claim → send → fenced record.

Every path ends in a ledger transition (docs/RELIABILITY.md §5): success, retry later, dead, or — when the row
was held, throttled or owned by someone else — no claim at all, so nothing is lost when a
message is dropped or a process dies; the dispatcher and sweeper pick the row up again."""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations import leases, tracing
from integrations.connections.models import Connection
from integrations.connectors.base import Connector
from integrations.connectors.errors import ConnectorError
from integrations.deliveries import circuit, conf, ledger, transport
from integrations.deliveries.attempts import AttemptLog
from integrations.deliveries.choices import DUE_STATES, Classification, Outcome
from integrations.deliveries.classify import is_throttled, judge
from integrations.deliveries.holds import Hold, circuit_hold, schedule_hold
from integrations.deliveries.models import Delivery, DeliveryAttempt, ThrottleEvent
from integrations.deliveries.throttle import SLOT_BUSY_WAIT, Limits, Permit, ThrottleUnavailable, get_throttle

logger = logging.getLogger("integrations.deliveries")

MAX_INLINE_WAIT = 1.0  # a throttle wait up to this long is slept in the task; longer → deferred
# Every concurrency slot taken usually means a slow target: give the worker process back
# to other connections' queues soon rather than wait on it (docs/ARCHITECTURE.md#lanes-and-queues).
MAX_SLOT_WAIT = 0.2


class Chunk:
    """What the deliveries of one message share: hold checks and open connectors
    (one connection pool and TLS context per connection, not per delivery)."""

    def __init__(
        self, task_id: str = "", *, redelivered: bool = False, hostname: str = "", runs: dict[int, Any] | None = None
    ):
        self.task_id = task_id
        # The runs whose deliveries these are, as the worker that executed them holds them
        # (runs/worker.py): attached to their deliveries, so the hooks read neither again.
        self.runs = runs or {}
        # The broker handed this message back (visibility timeout, or a worker lost with it).
        self.redelivered, self.hostname = redelivered, hostname
        self.holds: dict[int, Hold | None] = {}
        self.connectors: dict[int, tuple[Connector, transport.Recorder]] = {}
        # Connections whose limiter deferred a row of this chunk, with the delay it asked
        # for: their other rows are deferred at once instead of waiting again, each.
        self.throttled: dict[int, float] = {}
        # Connections an attempt of this chunk did not succeed with: a caller that read its
        # rows (and their circuits) up front sends them no more (runs/worker.py).
        self.failing: set[int] = set()

    def hold(self, connection: Connection, now: datetime) -> Hold | None:
        if connection.pk not in self.holds:
            self.holds[connection.pk] = schedule_hold(connection, now)
        return self.holds[connection.pk]

    def connector(self, connection: Connection) -> tuple[Connector, transport.Recorder]:
        if connection.pk not in self.connectors:
            self.connectors[connection.pk] = transport.open_connector(connection)
        return self.connectors[connection.pk]

    def close(self) -> None:
        for connector, _recorder in self.connectors.values():
            connector.close()


def deliver_chunk(
    delivery_ids: Sequence[int], *, task_id: str = "", redelivered: bool = False, hostname: str = ""
) -> dict[str, int]:
    """Attempt each delivery once; returns a count per result (for logs and tests)."""
    counts: dict[str, int] = {}
    chunk, started = Chunk(task_id, redelivered=redelivered, hostname=hostname), time.monotonic()
    # The message's rows in one query; each is still claimed on its own, only if it is due.
    rows = Delivery.objects.select_related("connection").in_bulk(list(delivery_ids))
    try:
        for n, delivery_id in enumerate(delivery_ids):
            if leases.stop_requested() or (n and time.monotonic() - started > conf.chunk_budget_seconds()):
                # A slow target must not run the task into its hard time limit (that would
                # count as a worker loss), and a worker asked to stop must not make the rest
                # wait for it: hand the rest back to the dispatcher.
                ledger.release_to_dispatcher(delivery_ids[n:])
                counts["released"] = len(delivery_ids) - n
                break
            result = deliver_one(delivery_id, chunk=chunk, row=rows.get(delivery_id))
            counts[result] = counts.get(result, 0) + 1
    finally:
        chunk.close()
    return counts


def deliver_one(delivery_id: int, *, chunk: Chunk | None = None, row: Delivery | None = None) -> str:
    """`row`: the delivery with its connection, as the caller read it a moment ago (its
    message's rows, or the worker's round: runs/worker.py); used if it was due then and its
    connection has not failed in this chunk since (its circuit is read again), else the row
    is read here."""
    if chunk is None:
        chunk = Chunk()
        try:
            return deliver_one(delivery_id, chunk=chunk, row=row)
        finally:
            chunk.close()
    now = timezone.now()
    if (
        row is not None
        and row.connection_id not in chunk.failing
        and row.state in DUE_STATES
        and row.next_attempt_at is not None
        and row.next_attempt_at <= now
    ):
        delivery: Delivery | None = row  # the claim below takes it only if it is still due
    else:
        delivery = Delivery.objects.select_related("connection").filter(ledger.due_filter(now), pk=delivery_id).first()
    if delivery is None:
        if chunk.redelivered:
            ledger.note_if_leased(delivery_id, now=now, hostname=chunk.hostname)
        return "not_due"
    if delivery.run_id in chunk.runs:
        delivery.run = chunk.runs[delivery.run_id]
    connection = delivery.connection
    # The circuit is read from the row just loaded, not cached per chunk: it may open mid-chunk.
    if chunk.hold(connection, now) is not None or circuit_hold(connection, now) is not None:
        ledger.release_to_dispatcher([delivery_id])
        return "held"
    if connection.pk in chunk.throttled:
        _defer(delivery, chunk.throttled[connection.pk])
        return "throttled"
    permit = _permit(delivery, connection, chunk)
    if permit is None:
        return "throttled"
    probe = None
    try:
        if circuit.is_half_open(connection, now):
            probe = circuit.take_probe(connection, now)
            if probe is None:  # another worker is probing
                ledger.release_to_dispatcher([delivery_id])
                return "held"
        claim = ledger.claim(delivery_id, delivery=delivery)
        if claim is None:
            if probe is not None:
                circuit.give_back_probe(connection, probe)
            return "not_claimed"
        outcome = _attempt(claim, chunk, probe)
        if outcome not in (Outcome.SUCCEEDED, Outcome.FOUND):
            chunk.failing.add(connection.pk)
        return outcome
    finally:
        get_throttle().release(permit)


# A round claims, sends and records its deliveries this many at a time: one durable claim
# and one write of the successes per slice, while a worker killed mid-round leaves at most
# this many rows in flight for the sweeper (each counting a worker loss, docs/RELIABILITY.md
# §11.3) and a sent row's run waits for its record at most a slice's sends.
ROUND_SLICE = 10


def deliver_round(rows: list[Delivery], chunk: Chunk, *, seconds: float) -> set[int]:
    """The deliveries a worker's round sends itself (runs/worker.py), rows read with their
    connections a moment ago, for up to `seconds`: a slice at a time claimed together (one
    durable UPDATE per connection), sent one by one, their successes written together
    (`record_landed`). A row whose connection is held, half-open or throttled takes
    `deliver_one`'s path alone. Claimed rows left unsent — out of time, asked to stop, their
    connection failing or throttled since — are given back at once, due now, their attempt
    refunded. Returns the ids attempted here; the caller rings for the others."""
    started, now = time.monotonic(), timezone.now()
    plain: list[Delivery] = []
    alone: list[Delivery] = []
    for row in rows:
        connection = row.connection
        special = (
            chunk.hold(connection, now) is not None
            or circuit_hold(connection, now) is not None
            or connection.pk in chunk.throttled
            or circuit.is_half_open(connection, now)
        )
        (alone if special else plain).append(row)
    attempted: set[int] = set()

    def out_of_time() -> bool:
        return leases.stop_requested() or bool(attempted and time.monotonic() - started > seconds)

    for i in range(0, len(plain), ROUND_SLICE):
        if out_of_time():
            break
        _deliver_slice([r for r in plain[i : i + ROUND_SLICE] if r.connection_id not in chunk.failing], chunk,
                       attempted, out_of_time)  # fmt: skip
    for row in alone:
        if out_of_time():
            break
        if row.connection_id not in chunk.failing:
            deliver_one(row.pk, chunk=chunk, row=row)
            attempted.add(row.pk)
    return attempted


def _deliver_slice(rows: list[Delivery], chunk: Chunk, attempted: set[int], out_of_time: Callable[[], bool]) -> None:
    now = timezone.now()
    claims = ledger.claim_many(rows, now=now)
    unsent = [row.pk for row in rows if row.pk in claims]
    landed: list[Landed] = []
    # This process sends one request at a time, so one concurrency slot per connection covers
    # the slice: kept from send to send where the connection has no rate limit (a rate limit
    # takes a token per request, so there each send asks the throttle).
    slots: dict[int, Permit] = {}
    try:
        for row in rows:
            claim = claims.get(row.pk)
            if (
                claim is None
                or out_of_time()
                or row.connection_id in chunk.failing
                or row.connection_id in chunk.throttled
            ):
                continue  # not claimed, or given back below
            if claim.delivery.worker_losses >= conf.MAX_WORKER_LOSSES:
                unsent.remove(row.pk)
                ledger.kill_lost(claim.delivery, claim.fence, now=now)
                continue
            keep = Limits.of(row.connection).rate == 0
            permit = slots.pop(row.connection_id, None) or _permit_claimed(row, chunk)
            if permit is None:
                continue  # throttled: given back below, its queue's message waits its turn
            try:
                unsent.remove(row.pk)
                attempted.add(row.pk)
                result = _send(claim, chunk)
            finally:
                if keep:
                    slots[row.connection_id] = permit
                else:
                    get_throttle().release(permit)
            if isinstance(result, Landed):
                landed.append(result)
            else:
                chunk.failing.add(row.connection_id)
    finally:
        for permit in slots.values():
            get_throttle().release(permit)
        record_landed(landed)
        if unsent:
            ledger.give_back_unsent(unsent, claimed_at=now)


def _permit_claimed(delivery: Delivery, chunk: Chunk) -> Permit | None:
    """A throttle permit for a row already claimed; None when the limiter asks for longer or
    cannot be reached (the connection is marked throttled for this chunk; the caller gives
    the row back, so it is not deferred here)."""
    try:
        permit = _acquire(delivery.connection, chunk)
    except ThrottleUnavailable as exc:
        logger.warning("throttle unavailable (%s); delivery %s given back", exc, delivery.pk)
        chunk.throttled[delivery.connection_id] = 1.0
        return None
    if permit is None:
        ThrottleEvent.objects.create(connection_id=delivery.connection_id)  # counted as `_defer` counts it
    return permit


def _permit(delivery: Delivery, connection: Connection, chunk: Chunk) -> Permit | None:
    """A throttle permit, sleeping through short waits; None after deferring the delivery."""
    try:
        permit = _acquire(connection, chunk)
    except ThrottleUnavailable as exc:
        logger.warning("throttle unavailable (%s); delivery %s deferred", exc, delivery.pk)
        ledger.defer(delivery.pk, 1.0)
        return None
    if permit is None:
        _defer(delivery, chunk.throttled[connection.pk])
    return permit


def _acquire(connection: Connection, chunk: Chunk) -> Permit | None:
    """Ask the throttle, sleeping through short waits; None when it asks for longer (the
    connection is then marked throttled for this chunk, with the delay it asked for)."""
    throttle, waited = get_throttle(), 0.0
    while True:
        answer = throttle.acquire(connection)
        if isinstance(answer, Permit):
            return answer
        if waited + answer > (MAX_SLOT_WAIT if answer == SLOT_BUSY_WAIT else MAX_INLINE_WAIT):
            chunk.throttled[connection.pk] = max(answer, 0.05)
            return None
        time.sleep(answer)
        waited += answer


def _defer(delivery: Delivery, seconds: float) -> None:
    ledger.defer(delivery.pk, seconds)
    ThrottleEvent.objects.create(connection_id=delivery.connection_id)


@dataclass
class Landed:
    """A request the target accepted, its record not written yet (`record_landed`)."""

    claim: ledger.Claim
    log: AttemptLog
    sent: transport.Sent
    probe: datetime | None


def _attempt(claim: ledger.Claim, chunk: Chunk, probe: datetime | None = None) -> str:
    landed = _send(claim, chunk, probe)
    return landed if isinstance(landed, str) else record_landed([landed])[0]


def _send(claim: ledger.Claim, chunk: Chunk, probe: datetime | None = None) -> Landed | str:
    """Send one claimed delivery. A failure is recorded here (its outcome returned); a
    success is returned for `record_landed` to write."""
    delivery, fence, connection = claim.delivery, claim.fence, claim.delivery.connection
    log = AttemptLog(delivery, fence, chunk.task_id)
    try:
        connector, recorder = chunk.connector(connection)
        recorder.target = log.hook
        # In the trace of the run that requested the delivery: its calls carry that trace id.
        with tracing.run_span("delivery.attempt", delivery.run_id, delivery_id=delivery.pk, connection=connection.name):
            sent = transport.send(delivery, connector)
    except transport.Uncertain as exc:  # decided without writing: says nothing about the target's health
        return _failed(delivery, fence, log, connection, exc, probe, target_failed=False)
    except ConnectorError as exc:
        return _failed(delivery, fence, log, connection, exc, probe)
    except Exception as exc:  # a bug must not strand the row: retry, and look up first
        logger.exception("delivery %s: unexpected error while sending", delivery.pk)
        error = ConnectorError(f"Unexpected error: {type(exc).__name__}", kind="transient", ambiguous=True)
        # Our bug says nothing about the target: it neither trips nor closes the circuit.
        return _failed(delivery, fence, log, connection, error, probe, target_failed=False)
    return Landed(claim, log, sent, probe)


def record_landed(landed: list[Landed]) -> list[str]:
    """Write the successes of a round in one transaction (one fenced UPDATE, one INSERT of
    their attempts); their outcomes in order (STALE where another execution took the row)."""
    if not landed:
        return []
    fields = [
        {
            "remote_id": (item.sent.result.remote_id or "")[:255],
            "last_status_code": item.sent.result.status_code,
            "last_error": "",
            "classification": "",
            "needs_lookup": False,
        }
        for item in landed
    ]
    with transaction.atomic():
        done = ledger.finish_succeeded_many(
            [(item.claim.delivery, item.claim.fence, f) for item, f in zip(landed, fields, strict=True)]
        )
        outcomes = [
            (Outcome.FOUND if item.sent.found else Outcome.SUCCEEDED)
            if item.claim.delivery.pk in done
            else Outcome.STALE
            for item in landed
        ]
        attempts = [
            item.log.row(outcome, status_code=item.sent.result.status_code)
            for item, outcome in zip(landed, outcomes, strict=True)
        ]
        DeliveryAttempt.objects.bulk_create(attempts)
    closed: set[int] = set()
    for item in landed:
        connection = item.claim.delivery.connection
        if item.probe is not None or connection.pk not in closed:
            circuit.succeeded(connection, item.probe)
            closed.add(connection.pk)
    return [str(outcome) for outcome in outcomes]


def _failed(
    delivery: Delivery,
    fence: int,
    log: AttemptLog,
    connection: Connection,
    exc: ConnectorError,
    probe: datetime | None = None,
    *,
    target_failed: bool = True,
) -> str:
    verdict = judge(
        transient=exc.transient,
        status_code=exc.status_code,
        retry_after=exc.retry_after,
        ambiguous=exc.ambiguous,
        attempts=delivery.attempts,
        max_attempts=connection.max_attempts,
        base=conf.backoff_base_seconds(),
        cap=conf.backoff_cap_seconds(),
        unclear=isinstance(exc, transport.UnclearOutcome),
        settle_seconds=transport.settle_seconds(connection),
        uncertain=isinstance(exc, transport.Uncertain),
    )
    outcomes: dict[str, Outcome] = {
        Classification.PERMANENT: Outcome.DEAD,
        Classification.EXHAUSTED: Outcome.EXHAUSTED,
        Classification.UNCERTAIN: Outcome.UNCERTAIN,
    }
    outcome = outcomes.get(verdict.classification, Outcome.RETRYABLE)
    refund = {"attempts": delivery.attempts - 1} if is_throttled(exc.status_code, exc.retry_after) else {}
    unclear = {"unclear_attempts": delivery.unclear_attempts + 1} if verdict.unclear else {}
    with transaction.atomic():
        done = ledger.finish(
            delivery.pk,
            fence,
            row=delivery,
            **refund,
            **unclear,
            state=verdict.state,
            classification=verdict.classification,
            last_error=exc.message[:2000],
            last_status_code=exc.status_code,
            needs_lookup=verdict.needs_lookup or delivery.needs_lookup,
            next_attempt_at=timezone.now() + timedelta(seconds=verdict.delay_seconds),
        )
        log.save(outcome if done else Outcome.STALE, status_code=exc.status_code, error=exc.message)
    _report_failure(connection, verdict.classification, exc, probe, target_failed)
    return outcome if done else Outcome.STALE


def _report_failure(
    connection: Connection, classification: str, exc: ConnectorError, probe: datetime | None, target_failed: bool
) -> None:
    """Only an outage counts toward the circuit: a transient failure that is not the target
    asking us to slow down (429, 503 + Retry-After). A permanent 4xx is an answer from a
    working target, like a success; anything else (throttled, our own error) leaves the
    count alone and lets the next delivery probe."""
    permanent = classification == Classification.PERMANENT
    if target_failed and permanent and exc.status_code is not None:
        circuit.succeeded(connection, probe)
    elif target_failed and not permanent and not is_throttled(exc.status_code, exc.retry_after):
        circuit.failed(connection, probe)
    elif probe is not None:
        circuit.give_back_probe(connection, probe)
