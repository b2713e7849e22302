"""Demo history for `manage.py seed_demo`: won opportunities posted to the lead-to-project flow,
so the studio has real runs to show on first start — projects set up in Kantata and NetSuite,
deals above the approval threshold waiting for a delivery lead, an opportunity without an
amount stopped as an exception, a change event completed by a look-up, and an opportunity sent
twice that updates the same project.

The events are stored and their runs queued here; the worker `make run` starts executes them
against the sandboxes like any other run (the polled flows fill in on their schedules). The
opportunities are the open pipeline of the sandbox firm, read from the Salesforce sandbox's
records (as another system posting a whole Opportunity to /api/v1/events/ would send them).
Idempotent: events are stored under fixed ids, and a second seed stores none."""

from integrations.connections.models import Connection
from integrations.events.services import ingest_event
from integrations.flows.models import Flow
from integrations.sandboxes.models import SandboxRecord

SOURCE, EVENT = "salesforce", "opportunity.won"
WON = 6  # whole opportunities posted as won


def open_pipeline(count: int) -> list[dict]:
    rows = SandboxRecord.objects.filter(vendor=SOURCE, object_type="Opportunity").order_by("record_id")
    found = []
    for row in rows.iterator():
        data = row.data
        if data.get("AccountId") and not str(data.get("StageName", "")).startswith("Closed"):
            found.append({k: v for k, v in data.items() if k != "attributes"})
        if len(found) == count:
            break
    return found


def events(pipeline: list[dict]) -> list[tuple[str, dict]]:
    """(event id, payload): whole records as won, one re-sent, one without an amount, one change event."""
    won = [{**opp, "StageName": "Closed Won", "IsWon": True, "IsClosed": True} for opp in pipeline]
    found = [(f"demo-won-{opp['Id']}", opp) for opp in won[:WON]]
    if won:
        found.append((f"demo-resent-{won[0]['Id']}", won[0]))  # the source sent it again: same project
    if len(won) > WON:
        found.append((f"demo-no-amount-{won[WON]['Id']}", {**won[WON], "Amount": 0}))
    if len(won) > WON + 1:
        opp = won[WON + 1]
        change = {"Id": opp["Id"], "StageName": "Closed Won",
                  "ChangeEventHeader": {"entityName": "Opportunity", "changeType": "UPDATE",
                                        "changedFields": ["StageName"]}}  # fmt: skip
        found.append((f"demo-change-{opp['Id']}", change))
    return found


def seed(stdout) -> None:
    connection = Connection.objects.filter(name=SOURCE).first()
    if connection is None or not Flow.objects.filter(key="lead-to-project", status="active").exists():
        stdout.write("  history: skipped (no salesforce connection or no active lead-to-project flow)\n")
        return
    stored = 0
    for external_id, payload in events(open_pipeline(WON + 2)):
        result = ingest_event(source=SOURCE, type=EVENT, external_id=external_id, payload=payload,
                              connection=connection, business_key=payload["Id"])  # fmt: skip
        stored += result.created
    stdout.write(f"  history: {stored} won opportunities posted to lead-to-project (runs queued for the worker)\n")
