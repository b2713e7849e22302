"""Resuming a waiting run: a delivery it waits for finished, an approval was decided, a
batch was flushed. Connected to the hooks of deliveries and approvals (runs/apps.py).

SUCCEEDED delivery → the run is queued again and resumes at the deliver step, whose effect
now finds the delivery done. DEAD delivery → the run fails with an exception that carries
the connector's classification and message. A delivery of a batch run is its own item."""

from django.db import connections, router, transaction
from django.utils import timezone

from integrations.deliveries.models import Delivery
from integrations.runs import doorbell, effects
from integrations.runs.batch import runs as batch_runs
from integrations.runs.choices import RunStatus
from integrations.runs.inbox.opening import open_for_delivery
from integrations.runs.models import Run

FINISHED = ("SUCCEEDED", "DEAD")


def wake(run_id: int, *, from_statuses, **only) -> bool:
    """A waiting run becomes due again (delivery done, approval decided). `only`: further
    conditions on the run's row."""
    # attempts count transient failures of one stretch of work; a wake starts a new one.
    woke = Run.objects.filter(pk=run_id, status__in=from_statuses, **only).update(
        status=RunStatus.QUEUED, next_attempt_at=timezone.now(), lease_until=None, attempts=0
    )
    if woke:
        doorbell.enqueue_runs_on_commit([run_id])
    return bool(woke)


def on_approval_decided(task, **_) -> None:
    """approvals/hooks.py, inside the transaction that decided the task."""
    wake(task.run_id, from_statuses=[RunStatus.WAITING_APPROVAL])


def on_delivery_finished(delivery_id: int, delivery: Delivery | None = None, **_) -> None:
    """deliveries/hooks.py, after the commit that ended the delivery (SUCCEEDED or DEAD).
    `delivery` is the row as the ledger wrote it (None: read here)."""
    if delivery is None:
        delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None or not delivery.run_id:
        return
    succeeded = str(delivery.state).upper() == "SUCCEEDED"
    # The common case in one statement, its own transaction: a one-record run waiting for this
    # delivery is queued again. Anything else (a batch run's delivery, a run not waiting yet, a
    # dead delivery) reads the run below.
    if succeeded and wake(delivery.run_id, from_statuses=[RunStatus.WAITING_DELIVERY], chunked=False):
        effects.remember_succeeded(delivery)
        return
    _not_woken(delivery, succeeded)


def on_deliveries_succeeded(deliveries: list[Delivery], **_) -> None:
    """deliveries/hooks.py, after the commit that recorded a worker round's successes: the
    one-record runs waiting for them are queued again in one statement; any other run (a
    batch run's, one not waiting yet) is looked at one by one, as for a single delivery."""
    with_run = [delivery for delivery in deliveries if delivery.run_id]
    woken = _wake_waiting_one_record_runs({delivery.run_id for delivery in with_run})
    if woken:
        doorbell.enqueue_runs_on_commit(sorted(woken))
    for delivery in with_run:
        if delivery.run_id in woken:
            effects.remember_succeeded(delivery)
        else:
            _not_woken(delivery, True)


def _wake_waiting_one_record_runs(run_ids: set[int]) -> set[int]:
    """`wake` for many one-record runs waiting for deliveries, one UPDATE … RETURNING (the
    ORM's update() says how many, not which)."""
    if not run_ids:
        return set()
    connection = connections[router.db_for_write(Run)]
    ops = connection.ops
    ids = sorted(run_ids)
    sql = (
        f"UPDATE {ops.quote_name(Run._meta.db_table)} SET status = %s, next_attempt_at = %s, "  # noqa: S608 (names only)
        f"lease_until = NULL, attempts = 0 WHERE id IN ({', '.join(['%s'] * len(ids))}) "
        "AND status = %s AND chunked = %s RETURNING id"
    )
    params = [str(RunStatus.QUEUED), ops.adapt_datetimefield_value(timezone.now()), *ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, str(RunStatus.WAITING_DELIVERY), False])
        return {row[0] for row in cursor.fetchall()}


def _not_woken(delivery: Delivery, succeeded: bool) -> None:
    if succeeded:
        # Its flags only: a batch run's record and state hold a whole page of records.
        run = Run.objects.only("pk", "chunked", "status").filter(pk=delivery.run_id).first()
    else:
        run = Run.objects.filter(pk=delivery.run_id).first()  # whole: an exception is opened on it
    if run is None:
        return
    if run.chunked:
        batch_runs.on_delivery_finished(run, delivery)
        return
    if succeeded:
        return  # not waiting for it (yet): catch_up resumes it once it is
    with transaction.atomic():
        failed = Run.objects.filter(pk=run.pk, status=RunStatus.WAITING_DELIVERY).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=_delivery_error(delivery)
        )
        if failed:
            run.refresh_from_db()
            open_for_delivery(run, delivery)


def catch_up(delivery_ids) -> None:
    """The ledger may finish a delivery before its run is marked waiting (its hook then found
    the run still running and did nothing): resume for those now."""
    if not delivery_ids:
        return
    for delivery_id, state in Delivery.objects.filter(pk__in=delivery_ids).values_list("pk", "state"):
        if str(state).upper() in FINISHED:
            on_delivery_finished(delivery_id)


def _delivery_error(delivery) -> dict:
    return {
        "step_id": delivery.step_id,
        "kind": "delivery",
        "message": getattr(delivery, "last_error", "") or "delivery failed",
        "classification": getattr(delivery, "classification", "") or "permanent",
    }
