"""Demo reconciliation for `manage.py seed_demo`: the sandbox firm's projects linked across
Salesforce, Kantata and NetSuite (integrations/reconcile/firm.py), and the nightly comparison
asked for once, so the reconciliation page and the dashboard have results on first start.

The comparison reads the sandboxes over HTTP, which answer only once the web server is up: it
is queued here (the reconcile app's own task) and the worker `make run` starts runs it. Asked
again only while no comparison has run; the links are idempotent."""

import logging

from celery import current_app

from integrations.connections.models import Connection
from integrations.crosswalk.demo import loaded_size
from integrations.reconcile import firm
from integrations.reconcile.models import Job, ReconciliationRun
from integrations.reconcile.tasks import BULK_QUEUE, RUN_JOB

log = logging.getLogger(__name__)


def seed(stdout) -> None:
    size = loaded_size()
    if size is None or not Connection.objects.filter(name__in=firm.SYSTEMS.values()).exists():
        stdout.write("  reconciliation: skipped (no sandbox firm loaded)\n")
        return
    added = firm.seed_links(size)
    stdout.write(f"  reconciliation: {added} project links across CRM, PSA and ERP added\n")
    if ReconciliationRun.objects.exists():
        return
    try:
        for job in Job.values:
            current_app.send_task(RUN_JOB, args=[job], queue=BULK_QUEUE)
    except Exception:  # broker unavailable: the nightly schedule runs them
        log.warning("demo reconciliation not queued: the broker is unavailable", exc_info=True)
        return
    stdout.write(f"  reconciliation: {len(Job.values)} comparisons queued for the worker\n")
