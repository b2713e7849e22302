"""What people do with an open exception.

Actions: retry (from the failed step or the start; with the version that ran or the
current published one), edit-and-resubmit (diff kept, original read-only), skip, resolve
with a reason, assign, comment, tag. Every action is audited with its actor."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from integrations.audit import services as audit
from integrations.deliveries import services as ledger
from integrations.deliveries.models import Delivery
from integrations.runs.choices import ACTIVE_EXCEPTION, ExceptionStatus, RunStatus, Trigger
from integrations.runs.inbox import items
from integrations.runs.models import ExceptionComment, Run, RunException
from integrations.runs.services import create_run


class ActionInvalid(ValueError):
    """An action that cannot apply; `field` names the input at fault, `conflict` means 409."""

    def __init__(self, field: str, message: str, *, conflict: bool = False):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.conflict = field, message, conflict


def lock_active(exc: RunException) -> RunException:
    exc = RunException.objects.select_for_update().select_related("run__flow_version__flow").get(pk=exc.pk)
    if exc.status not in (ExceptionStatus.OPEN, ExceptionStatus.ASSIGNED):
        raise ActionInvalid(
            "status", f"the exception is {exc.status}; only open or assigned exceptions can be worked", conflict=True
        )
    return exc


@transaction.atomic
def retry(exc: RunException, user, *, from_step: str = "failed", version: str = "ran") -> RunException:
    if from_step not in ("failed", "start"):
        raise ActionInvalid("from_step", "must be 'failed' or 'start'")
    if version not in ("ran", "current"):
        raise ActionInvalid("version", "must be 'ran' or 'current'")
    exc = lock_active(exc)
    if exc.delivery_id and from_step == "failed" and version == "ran":
        resend_delivery(exc, user)
    else:
        retry_as_new_run(exc, user, from_step, version)
    exc.status = ExceptionStatus.RETRYING
    exc.save(update_fields=["status", "last_seen"])
    audit.record(user, "exception.retry", exc, after={"from_step": from_step, "version": version})
    return exc


def resend_delivery(exc: RunException, user=None, *, new_key_suffix: str | None = None, payload=None) -> None:
    """The ledger re-sends the dead delivery (same key, or key:rN for an edited payload);
    the run waits for it again and resumes when it lands."""
    delivery = Delivery.objects.get(pk=exc.delivery_id)
    try:
        ledger.retry_delivery(delivery, new_key_suffix=new_key_suffix, payload=payload, actor=user)
    except ledger.DeliveryConflict as err:
        raise ActionInvalid("status", str(err), conflict=True) from err
    except ledger.DeliveryError as err:
        raise ActionInvalid("input" if err.field == "payload" else err.field, err.message) from err
    Run.objects.filter(pk=exc.run_id, status=RunStatus.FAILED).update(
        status=RunStatus.WAITING_DELIVERY, finished_at=None
    )


def retry_as_new_run(exc: RunException, user, from_step: str, version: str, record=None, state=None) -> Run:
    failed = exc.run
    target = failed.flow_version if version == "ran" else failed.flow_version.flow.live_version
    if target is None:
        raise ActionInvalid("version", "the flow has no published version")
    if exc.item:  # one record or group of a batch run: a run of its own, retry_of the batch run
        return retry_item(exc, user, target, record if record is not None else exc.current_input)
    from_failed = from_step == "failed" and exc.step_id and _has_step(target, exc.step_id)
    return create_run(
        target,
        trigger=Trigger.RETRY,
        event=failed.event,
        record=record if record is not None else failed.input,
        user=user,
        retry_of=failed,
        business_key=failed.business_key,
        state=(state if state is not None else failed.state) if from_failed else None,
        start_at=exc.step_id if from_failed else "",
    )


def retry_item(exc: RunException, user, target, data) -> Run:
    """One record or group of a batch run, retried as a run of its own (inbox/items.py)."""
    if exc.item.startswith("group:"):
        if not items.batch_step_id(target):
            raise ActionInvalid("version", "this version has no batch step to resume the group at")
        if not isinstance((data or {}).get("records"), list):
            raise ActionInvalid("input.records", "a group is retried with its records (a list)")
    return items.retry_item(exc, user, target, data)


def _has_step(version, step_id: str) -> bool:
    return any(s.get("id") == step_id for s in version.definition.get("steps", []))


@transaction.atomic
def skip(exc: RunException, user, reason: str = "") -> RunException:
    exc = lock_active(exc)
    _close(exc, user, ExceptionStatus.SKIPPED, reason or "skipped")
    if not exc.item:  # skipping one record of a batch run leaves the run and its other records be
        Run.objects.filter(pk=exc.run_id).update(status=RunStatus.CANCELLED)
    audit.record(user, "exception.skip", exc, message=reason)
    return exc


@transaction.atomic
def resolve(exc: RunException, user, reason: str) -> RunException:
    if not (reason or "").strip():
        raise ActionInvalid("reason", "say how the exception was resolved")
    exc = lock_active(exc)
    _close(exc, user, ExceptionStatus.RESOLVED, reason.strip())
    audit.record(user, "exception.resolve", exc, message=reason)
    return exc


def _close(exc: RunException, user, status, reason: str) -> None:
    exc.status, exc.resolution_reason = status, reason
    exc.resolved_by, exc.resolved_at = user, timezone.now()
    exc.save()


@transaction.atomic
def assign(exc: RunException, user, assignee_username: str | None) -> RunException:
    exc = lock_active(exc)
    assignee = None
    if assignee_username:
        assignee = get_user_model().objects.filter(username=assignee_username, is_active=True).first()
        if assignee is None or not assignee.has_perm("accounts.work_exceptions"):
            raise ActionInvalid("assignee", f"'{assignee_username}' is not a user who can work exceptions")
    before = exc.assignee.get_username() if exc.assignee else None
    exc.assignee = assignee
    exc.status = ExceptionStatus.ASSIGNED if assignee else ExceptionStatus.OPEN
    exc.save(update_fields=["assignee", "status", "last_seen"])
    audit.record(user, "exception.assign", exc, changes={"assignee": [before, assignee_username or None]})
    return exc


@transaction.atomic
def comment(exc: RunException, user, body: str) -> ExceptionComment:
    if not (body or "").strip():
        raise ActionInvalid("body", "a comment cannot be empty")
    note = ExceptionComment.objects.create(exception=exc, author=user, body=body.strip())
    audit.record(user, "exception.comment", exc, message=body.strip()[:500])
    return note


@transaction.atomic
def tag(exc: RunException, user, add=(), remove=()) -> RunException:
    exc = RunException.objects.select_for_update().get(pk=exc.pk)
    for name in list(add) + list(remove):
        if not isinstance(name, str) or not name.strip() or len(name) > 40:
            raise ActionInvalid("tags", "tags are non-empty strings of at most 40 characters")
    before = list(exc.tags)
    exc.tags = sorted((set(exc.tags) | {t.strip() for t in add}) - {t.strip() for t in remove})
    exc.save(update_fields=["tags", "last_seen"])
    audit.record(user, "exception.tag", exc, changes={"tags": [before, exc.tags]})
    return exc


def is_active(exc: RunException) -> bool:
    return exc.status in ACTIVE_EXCEPTION
