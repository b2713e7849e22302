"""Thin Celery tasks: the nightly reconciliation. The periodic task (control lane) only
rings; each job runs as its own message on the bulk lane, so a long comparison never
holds up control work or interactive runs."""

from celery import current_app, shared_task

from integrations.reconcile import services
from integrations.reconcile.models import Job

RUN_JOB = "integrations.reconcile.tasks.run_job"
BULK_QUEUE = "bulk"  # studio/lane_transport.py BULK: a message that names its queue keeps it


@shared_task(name="integrations.reconcile.tasks.reconcile_all", ignore_result=True)
def reconcile_all() -> int:
    for job in Job.values:
        current_app.send_task(RUN_JOB, args=[job], queue=BULK_QUEUE)
    return len(Job.values)


@shared_task(name=RUN_JOB, ignore_result=True, acks_late=True)
def run_job(job: str) -> int:
    return services.run_job(job, actor="system:schedule").pk
