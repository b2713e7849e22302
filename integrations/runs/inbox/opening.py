"""Opening exceptions: a failed run, or one record, group or delivery of a batch run,
becomes an exception in the inbox (or reopens the one its retry came from); a successful
retry resolves it. Every opening is audited."""

import hashlib
import re

from django.utils import timezone

from integrations.audit import services as audit
from integrations.runs.batch.collect import note_carrier_outcome
from integrations.runs.choices import Classification, ExceptionStatus
from integrations.runs.models import Run, RunException

VOLATILE = re.compile(r"[0-9a-f]{8,}|\d+", re.IGNORECASE)


def signature(flow_key: str, step_id: str, message: str) -> str:
    """Alike failures share a signature: ids and numbers blanked out of the message."""
    return hashlib.sha256(f"{flow_key}|{step_id}|{VOLATILE.sub('#', message)}".encode()).hexdigest()


def open_exception(
    run: Run,
    *,
    step_id,
    classification,
    kind="",
    message="",
    field="",
    original_input=None,
    delivery_id=None,
    item="",
):
    """Open (or, for a failed retry, reopen) the exception of a failed run (or of one
    record, group or delivery of a batch run: `item`)."""
    note_carrier_outcome(run, step_id=step_id, failed=True)
    flow = run.flow_version.flow
    item = item or run.item
    fields = {
        "step_id": step_id,
        "classification": classification,
        "kind": kind,
        "message": message or "failed",
        "field": field or "",
        "message_signature": signature(flow.key, step_id, message or ""),
        "delivery_id": delivery_id,
    }
    previous = retrying_exception(run, item)
    if previous is not None:
        for key, value in fields.items():
            setattr(previous, key, value)
        previous.run = run
        previous.status = ExceptionStatus.ASSIGNED if previous.assignee_id else ExceptionStatus.OPEN
        previous.duplicate_count += 1
        previous.save()
        audit.record("system:runtime", "exception.reopen", previous, message=message[:500])
        return previous
    exc = RunException.objects.create(
        run=run, flow=flow, item=item, business_key=run.business_key, original_input=original_input, **fields
    )
    audit.record("system:runtime", "exception.open", exc, message=(message or "")[:500])
    return exc


def retrying_exception(run: Run, item: str = ""):
    """The exception being retried by this run: its own (a re-sent delivery) or its origin's
    — for the retry of one item of a batch run, that item's."""
    runs = [run.pk] if run.retry_of_id is None else [run.pk, run.retry_of_id]
    retrying = RunException.objects.filter(run_id__in=runs, status=ExceptionStatus.RETRYING, item=item or run.item)
    return retrying.order_by("-id").first()


def open_for_delivery(run: Run, delivery, item: str = "") -> RunException:
    # The ledger's classification: transient/exhausted → retries ran out; worker_lost; permanent.
    classification = {"exhausted": Classification.TRANSIENT, "transient": Classification.TRANSIENT}.get(
        delivery.classification, delivery.classification
    )
    if classification not in Classification.values:
        classification = Classification.PERMANENT
    return open_exception(
        run,
        step_id=delivery.step_id,
        classification=classification,
        kind="delivery",
        message=getattr(delivery, "last_error", "") or "delivery failed",
        original_input=delivery.payload,
        delivery_id=delivery.pk,
        item=item,
    )


def resolve_after_successful_retry(run: Run) -> None:
    exc = retrying_exception(run)
    if exc is not None:
        note_carrier_outcome(run, failed=False)
        exc.status, exc.resolved_at, exc.resolution_reason = (
            ExceptionStatus.RESOLVED,
            timezone.now(),
            f"retry run {run.pk} succeeded",
        )
        exc.run = run
        exc.save()
        audit.record("system:runtime", "exception.resolve", exc, message=exc.resolution_reason)
