"""Thin Celery tasks of the health app."""

from celery import shared_task

from integrations.health import services


@shared_task(bind=True, name="integrations.health.tasks.heartbeat", ignore_result=True)
def heartbeat(self) -> None:
    """Run by beat every 15 s (periodic.py); /healthz calls the worker alive while fresh."""
    services.stamp(services.WORKER, hostname=self.request.hostname or "")
    services.prune_redeliveries()
