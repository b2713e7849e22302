"""Edit-and-resubmit: the failed step's input, edited, validated and run again.

The original input stays read-only on the exception; each edit is kept as a revision with
its diff and author. A dead delivery is re-sent by the ledger with the edited payload
under `key:rN`, so the target never sees one idempotency key with two different bodies."""

from django.db import transaction
from django.utils import timezone

from integrations.audit import services as audit
from integrations.flows import engine_api
from integrations.runs.choices import ExceptionStatus
from integrations.runs.inbox import items
from integrations.runs.inbox.actions import ActionInvalid, lock_active, resend_delivery, retry_as_new_run


def resubmit(exc, user, edited, note: str = ""):
    if not isinstance(edited, dict):
        raise ActionInvalid("input", "must be a JSON object")
    with transaction.atomic():
        exc = lock_active(exc)
        current = exc.current_input
        if edited == current:
            raise ActionInvalid("input", "nothing was changed; use retry to run the same input again")
        revision = len(exc.input_revisions) + 1
        if exc.delivery_id:
            resend_delivery(exc, user, new_key_suffix=f"r{revision}", payload=edited)
        elif exc.item:  # a record or group of a batch run
            check_edited(exc, None, edited)
            retry_as_new_run(exc, user, "start", "ran", record=edited)
        else:
            state = {**(exc.run.state or {}), "record": edited}
            check_edited(exc, state)
            retry_as_new_run(exc, user, "failed", "ran", state=state)
        changes = audit.diff(current if isinstance(current, dict) else {}, edited)
        exc.input_revisions = [
            *exc.input_revisions,
            {
                "revision": revision,
                "input": edited,
                "diff": changes,
                "note": note,
                "by": user.get_username(),
                "at": timezone.now().isoformat(),
            },
        ]
        exc.status = ExceptionStatus.RETRYING
        exc.save(update_fields=["input_revisions", "status", "last_seen"])
        audit.record(user, "exception.resubmit", exc, changes=changes, message=note or f"revision {revision}")
    return exc


def check_edited(exc, state: dict | None, edited=None) -> None:
    """Dry-run from the failed step: an edit that fails there again is refused, naming the field."""
    if not exc.step_id:
        return
    if exc.item:
        outcome = items.dry_run(exc, edited)
    else:
        plan = engine_api.plan_for(exc.run.flow_version)
        outcome = engine_api.run(
            plan, exc.run.record, engine_api.dry_run_effects(), state=state, start_at=exc.step_id, dry_run=True
        )
    error = outcome.error
    failed_here = outcome.status == "failed" and error is not None and error.step_id == exc.step_id
    if failed_here and error.classification == "permanent":
        first = (error.details or ({"field": error.field, "message": error.message},))[0]
        raise ActionInvalid(f"input.{first['field']}" if first.get("field") else "input", first["message"])


def preview_resubmission(exc, edited) -> dict:
    """What resubmit would record as the diff, after the same checks (ActionInvalid naming the
    field otherwise), without acting: a page shows it for confirmation before anything runs."""
    if not isinstance(edited, dict):
        raise ActionInvalid("input", "must be a JSON object")
    if exc.status not in (ExceptionStatus.OPEN, ExceptionStatus.ASSIGNED):
        raise ActionInvalid("status", f"the exception is {exc.status}; only open or assigned exceptions can be worked")
    current = exc.current_input
    if edited == current:
        raise ActionInvalid("input", "nothing was changed; use retry to run the same input again")
    if not exc.delivery_id:  # a delivery's payload is checked by the ledger when it is re-sent
        check_edited(exc, None if exc.item else {**(exc.run.state or {}), "record": edited}, edited)
    return audit.diff(current if isinstance(current, dict) else {}, edited)
