"""The demo flows are valid, publish, and seeding twice changes nothing."""

import io

import pytest

from integrations.connections.models import Connection
from integrations.flows.demo import seed
from integrations.flows.models import Flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def connections(db):
    for name in ("salesforce", "kantata", "netsuite"):
        Connection.objects.create(name=name, kind="generic_rest", base_url=f"https://{name}.example.com")


def test_seeding_publishes_the_demo_flows_once(connections, doorbells):
    seed(io.StringIO())
    out = io.StringIO()
    seed(out)
    assert "unchanged" in out.getvalue()
    assert {(f.key, f.status, f.live_version.number) for f in Flow.objects.all()} == {
        ("opportunity-to-project", "active", 1),
        ("approved-time-to-netsuite", "active", 1),
    }


def dry_run_live(key, record, lookup=None):
    from integrations.engine import DryRunEffects, compile_flow, run

    plan = compile_flow(Flow.objects.get(key=key).live_version.definition)
    return run(plan, record, DryRunEffects(lookup=lookup), dry_run=True)


def test_the_demo_flows_do_what_they_say(connections, doorbells):
    seed(io.StringIO())
    opportunity = {"Id": "006A", "Name": "Acme rollout", "Amount": 300000, "CurrencyIsoCode": "EUR"}
    change_event = {"Id": "006A", "StageName": "Closed Won"}
    outcome = dry_run_live("opportunity-to-project", change_event, lambda step, request: opportunity)
    assert outcome.status == "completed", outcome.error
    assert [s.status for s in outcome.steps] == ["succeeded"] * 4
    assert outcome.steps[2].detail["note"] == "would wait for approval"  # a big deal asks for approval
    assert outcome.steps[3].output["key"] == "opportunity:006A"
    entry = {"id": 77, "user_id": "U1", "approved": True, "date_performed": "2026-03-02", "time_in_minutes": 90}
    outcome = dry_run_live("approved-time-to-netsuite", entry)
    assert outcome.status == "completed", outcome.error
    post = next(s for s in outcome.steps if s.step_id == "post")
    assert post.input["hours"] == 1.5 and post.output["key"] == "timesheet:77"


def test_without_the_connections_nothing_is_seeded(db, doorbells):
    out = io.StringIO()
    seed(out)
    assert Flow.objects.count() == 0 and "skipped" in out.getvalue()
