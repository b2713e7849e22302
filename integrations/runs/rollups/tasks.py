"""Thin Celery wrapper of the roll-up job."""

from celery import shared_task

from integrations.runs.rollups import job


@shared_task
def roll_up_runs() -> int:
    return job.roll_up().hours
