"""Batch claims: one task takes up to a batch of due runs of its lane from the database, fairly
across flows (docs/RELIABILITY.md §3, "Batch claims").

A message is a doorbell for its lane, not for one run: whatever ids it carries, the worker
claims the due runs of that lane in turn across flow versions (round-robin, oldest first
within each), so one flow's 6,000 queued runs delay another flow's run by at most one batch.
Each run still gets its own lease and fencing token (integrations/leases.py `claim_many`):
the batch changes how many rows one round trip takes, not what a claim means.

PostgreSQL: the candidates are locked `FOR UPDATE SKIP LOCKED` in the claiming transaction,
so two workers claiming at once take different runs instead of queueing on the same rows.
SQLite: writers are serialized (IMMEDIATE transactions), so the same transaction suffices."""

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from integrations import leases
from integrations.runs.choices import RunStatus
from integrations.runs.lanes import INTERACTIVE
from integrations.runs.models import Run

# Runs one message claims and executes. Large enough that the broker's latency is paid per
# batch rather than per run, small enough that a batch ends within seconds (the fairness bound).
DEFAULT_BATCH = 50
MAX_FLOWS_PER_PICK = 100  # versions looked at per claim; beyond that, the oldest come first


def batch_size() -> int:
    return max(1, int(getattr(settings, "SWITCHBOARD_RUN_BATCH", DEFAULT_BATCH)))


def due_runs(now):
    return Run.objects.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), status=RunStatus.QUEUED)


def due_in_lane(lane: str, now):
    return due_runs(now).filter(lane=lane).order_by()


def pick(lane: str, limit: int, now) -> list[int]:
    """Ids of up to `limit` due runs of `lane`, round-robin across flow versions. Call inside
    the claiming transaction (PostgreSQL locks the candidates)."""
    due = due_in_lane(lane, now)
    versions = list(due.values_list("flow_version_id", flat=True).distinct()[:MAX_FLOWS_PER_PICK])
    if not versions:
        return []
    skip_locked = connection.features.has_select_for_update_skip_locked
    share = max(1, -(-limit // len(versions)))  # ceil: every flow with due runs gets a place
    per_version: list[list[int]] = []
    for version_id in versions:
        rows = due.filter(flow_version_id=version_id).order_by("next_attempt_at", "id")
        if skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        # A flow takes its share first; more only if the others have fewer due.
        per_version.append(list(rows.values_list("id", flat=True)[: limit if len(versions) == 1 else share * 2]))
    picked: list[int] = []
    for turn in range(max(len(ids) for ids in per_version)):
        for ids in per_version:
            if turn < len(ids):
                picked.append(ids[turn])
    return picked[:limit]


def due_of(ids) -> list[int]:
    """Which of a doorbell's runs are still queued and due. Before the claim: none means the
    batches before it took them all (each run rings, a batch takes up to fifty), so it ends
    without a claim. After it: the ones its batch had no room for, rung for again."""
    return list(due_runs(timezone.now()).filter(pk__in=list(ids)).values_list("pk", flat=True))


def claim_batch(lane: str, limit: int | None = None, *, now=None) -> list[Run]:
    """Claim up to `limit` due runs of `lane`; returns them loaded, in claim order."""
    now = now or timezone.now()
    limit = limit or batch_size()
    with transaction.atomic():
        ids = pick(lane, limit, now)
        claimed = claim_ids(ids, now=now)
    return claimed


def claim_ids(ids, *, now=None, known: dict[int, Run] | None = None) -> list[Run]:
    """Claim these runs if they are queued and due (a batch of the runs a task just woke).
    `known`: the runs as this worker last wrote them (its batch, woken since by their
    deliveries): those it claims are brought up to date in memory instead of read again."""
    now = now or timezone.now()
    claimed = leases.claim_many(
        Run,
        list(ids),
        now=now,
        queued=[RunStatus.QUEUED],
        running=RunStatus.RUNNING,
        # A run that has started is interactive from now on (lanes.py); the first claim stamps started_at.
        also={"started_at": "COALESCE(started_at, %(now)s)", "lane": f"'{INTERACTIVE}'"},
    )
    if not claimed:
        return []
    known = known or {}
    missing = [pk for pk in claimed if pk not in known]
    runs = {run.pk: run for run in Run.objects.select_related("flow_version__flow", "event").filter(pk__in=missing)}
    for pk, claim in claimed.items():
        run = known.get(pk)
        if run is not None:  # what the wake and this claim wrote, on the row as it was written
            run.status, run.fence, run.attempts = RunStatus.RUNNING, claim.fence, claim.attempts
            run.lease_until, run.next_attempt_at, run.lane = leases.lease_until(now), now, INTERACTIVE
            run.started_at = run.started_at or now
            runs[pk] = run
    return [runs[pk] for pk in ids if pk in runs]
