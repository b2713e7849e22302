"""`manage.py seed_demo`: the gallery's flows, published over the sandbox connections
(integrations.connections.demo runs first). Lead to project reacts to `opportunity.won` from
`salesforce`; its regional variant reacts to the same event, so it is published but paused
(a firm runs one or the other). The demo firm's CRM is Salesforce and its HR system Workday:
the HubSpot and BambooHR variants are published paused too, ready to switch on in place of
theirs (run beside them, they would write the same projects, invoices and workers twice).
Idempotent: a flow that exists is left as it is."""

from django.db import transaction

from integrations.connections.models import Connection
from integrations.flows.choices import FlowStatus
from integrations.flows.models import Flow
from integrations.flows.services import create_flow, publish, set_status
from integrations.gallery.catalog import TEMPLATES
from integrations.gallery.install import tag

ACTOR = "system:seed_demo"
# Alternatives to a flow the demo runs: only one of each pair runs.
PAUSED = {
    "lead-to-project-regional",  # the same event as lead-to-project
    "lead-to-project-hubspot",  # the demo firm's CRM is Salesforce
    "invoice-status-back-hubspot",
    "consultant-master-sync-bamboohr",  # its HR system is Workday
    "lead-to-project-dynamics",  # its ERP is NetSuite
    "time-to-billing-dynamics",
}


def seed(stdout) -> None:
    for t in TEMPLATES:
        if Flow.objects.filter(key=t.key).exists():
            stdout.write(f"  flow {t.key}: unchanged\n")
            continue
        missing = [n for n in t.connections if not Connection.objects.filter(name=n).exists()]
        if missing:
            stdout.write(f"  flow {t.key}: skipped (no connection {', '.join(missing)})\n")
            continue
        with transaction.atomic():
            flow = create_flow(ACTOR, key=t.key, name=t.name, description=t.description,
                               tags=["gallery", tag(t)], definition=t.fresh_definition())  # fmt: skip
            publish(flow, ACTOR, notes="demo: reference flow from the template gallery")
            if t.key in PAUSED:
                set_status(flow, ACTOR, FlowStatus.PAUSED)
        stdout.write(f"  flow {t.key}: created and published{' (paused)' if t.key in PAUSED else ''}\n")
