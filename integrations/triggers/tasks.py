"""Thin Celery wrappers of the triggers: ids in, one call. The task names are the ones the
per-flow rows of django-celery-beat already store (the code moved here from flows and runs;
the names stayed, so existing schedules and messages in flight keep working)."""

from celery import shared_task

from integrations.triggers import feeds, polls, schedules


@shared_task(name="integrations.flows.tasks.poll_flow", acks_late=True)
def poll_flow(flow_id: int) -> int:
    return polls.poll(flow_id)


@shared_task(name="integrations.runs.tasks.start_scheduled_run")
def start_scheduled_run(flow_id: int) -> None:
    schedules.start_scheduled(flow_id)


@shared_task(name="integrations.triggers.tasks.resume_polls")
def resume_polls() -> int:
    """Every few seconds (periodic.py): polls paused by a full backlog carry on."""
    return len(polls.resume_paused())


@shared_task(name="integrations.triggers.tasks.poll_change_feeds")
def poll_change_feeds() -> int:
    """Every minute (periodic.py): event triggers on vendors without webhooks (feeds.py)."""
    return feeds.poll_feeds()
