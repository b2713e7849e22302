"""Reads for the reconciliation page and the dashboard.

`latest_counts()` is what the dashboard shows: for each job, its latest finished run's
matched / missing / mismatched counts, and how many of its results still need a person."""

from django.db.models import Count, Q

from integrations.reconcile.models import Job, Outcome, ReconciliationRun, Result, ResultState, RunStatus


def latest_runs() -> dict[str, ReconciliationRun | None]:
    return {
        job: ReconciliationRun.objects.filter(job=job).exclude(status=RunStatus.RUNNING).first() for job in Job.values
    }


def open_results(run: ReconciliationRun):
    return Result.objects.filter(run=run, state=ResultState.OPEN).exclude(outcome=Outcome.MATCHED)


def latest_counts() -> dict:
    """{"jobs": {job: {"matched", "missing", "mismatched", "open", "finished_at", "run_id", "status"}},
    "mismatches": total missing + mismatched, "open": total needing a person} — latest runs only."""
    jobs, mismatches, still_open = {}, 0, 0
    for job, run in latest_runs().items():
        if run is None:
            jobs[job] = None
            continue
        pending = Result.objects.filter(run=run).aggregate(
            open=Count("id", filter=Q(state=ResultState.OPEN) & ~Q(outcome=Outcome.MATCHED))
        )["open"]
        jobs[job] = {"matched": run.matched, "missing": run.missing, "mismatched": run.mismatched, "open": pending,
                     "finished_at": run.finished_at, "run_id": run.pk, "status": run.status}  # fmt: skip
        mismatches += run.missing + run.mismatched
        still_open += pending
    return {"jobs": jobs, "mismatches": mismatches, "open": still_open}
