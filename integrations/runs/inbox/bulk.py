"""Bulk exception actions by filter, as background jobs with progress counters.

The matching ids are frozen when the job is created; the task works through them in
chunks and records progress after each chunk, so a lost worker resumes where it stopped."""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.audit import services as audit
from integrations.runs import doorbell
from integrations.runs.choices import JobStatus
from integrations.runs.inbox import actions
from integrations.runs.models import BulkJob, RunException
from integrations.runs.queries import filter_exceptions

log = logging.getLogger(__name__)
CHUNK = 50
ACTIONS = {
    "retry": lambda exc, user, p: actions.retry(
        exc, user, from_step=p.get("from_step", "failed"), version=p.get("version", "ran")
    ),
    "skip": lambda exc, user, p: actions.skip(exc, user, p.get("reason", "")),
    "resolve": lambda exc, user, p: actions.resolve(exc, user, p.get("reason", "")),
    "assign": lambda exc, user, p: actions.assign(exc, user, p.get("assignee")),
    "tag": lambda exc, user, p: actions.tag(exc, user, p.get("add", []), p.get("remove", [])),
}


def start_bulk(user, action: str, filters: dict, params: dict) -> BulkJob:
    if action not in ACTIONS:
        raise actions.ActionInvalid("action", f"must be one of {', '.join(ACTIONS)}")
    if action == "resolve" and not (params.get("reason") or "").strip():
        raise actions.ActionInvalid("reason", "say how the exceptions were resolved")
    ids = list(filter_exceptions(RunException.objects.all(), filters).order_by("id").values_list("id", flat=True))
    with transaction.atomic():
        job = BulkJob.objects.create(
            action=action, filters=filters, params={**params, "ids": ids}, total=len(ids), created_by=user
        )
        audit.record(
            user, f"exception.bulk_{action}", job, object_type="runs.bulkjob", message=f"{len(ids)} exceptions"
        )
        transaction.on_commit(lambda: doorbell.enqueue_bulk_job(job.pk))
    return job


def process_chunk(job_id: int) -> BulkJob:
    """One chunk, in one transaction holding the job row: two deliveries of the same message
    take turns instead of doing a chunk twice, and a worker lost mid-chunk undoes the chunk
    (its actions and its progress) so the next ring redoes exactly that chunk."""
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().get(pk=job_id)
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            return job
        ids = job.params["ids"][job.processed : job.processed + CHUNK]
        ok, errors = 0, []
        for exc in RunException.objects.filter(pk__in=ids):
            error = _apply(job, exc)
            ok += error is None
            errors += [error] if error else []
        done = job.processed + len(ids) >= job.total
        BulkJob.objects.filter(pk=job.pk).update(
            processed=F("processed") + len(ids),
            succeeded=F("succeeded") + ok,
            failed=F("failed") + (len(ids) - ok),
            errors=(job.errors + errors)[:100],
            status=JobStatus.DONE if done else JobStatus.RUNNING,
            finished_at=timezone.now() if done else None,
            updated_at=timezone.now(),
        )
        if not done:
            transaction.on_commit(lambda: doorbell.enqueue_bulk_job(job.pk))
    job.refresh_from_db()
    return job


def _apply(job: BulkJob, exc: RunException) -> dict | None:
    """Act on one exception; each action runs in its own savepoint, so one failure is one
    failed item, not a failed chunk."""
    try:
        ACTIONS[job.action](exc, job.created_by, job.params)
    except actions.ActionInvalid as err:
        return {"exception": exc.pk, "field": err.field, "message": err.message}
    except Exception as err:  # an unexpected failure of one item must not stall the job
        log.exception("bulk job %s: %s on exception %s failed", job.pk, job.action, exc.pk)
        return {"exception": exc.pk, "field": "", "message": f"internal error: {type(err).__name__}"}
    return None


def resume_stalled(now=None, after_seconds: int = 120) -> int:
    """Periodic: a job whose chunk message was lost (no progress for a while) is rung again;
    its progress is in the row, so it carries on where it stopped."""
    now = now or timezone.now()
    stalled = BulkJob.objects.filter(
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING], updated_at__lt=now - timedelta(seconds=after_seconds)
    ).values_list("pk", flat=True)
    ids = list(stalled)
    for job_id in ids:
        doorbell.enqueue_bulk_job(job_id)
    return len(ids)
