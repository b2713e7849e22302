"""What one event costs the intake (integrations/events/services.py, issue 15): the statements
it sends and the messages it publishes — and that the cheaper lookup of the flows an event
triggers still follows publishing and pausing at once."""

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.events.services import ingest_event
from integrations.flows.services import create_flow, matching_versions, publish, save_draft, set_status
from integrations.runs import doorbell
from integrations.runs.models import Run
from tests.runtime.lane_driver import FLOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(db):
    return publish(create_flow("system:test", key="invoices", name="Invoices", definition=FLOW), "system:test")


@pytest.fixture
def messages(monkeypatch, settings):
    if settings.REDIS_URL:
        redis.Redis.from_url(settings.REDIS_URL).delete(doorbell.PENDING_KEY.format(lane="default"))
    sent = []
    monkeypatch.setattr(doorbell, "_send", lambda task, args, **options: sent.append(args))
    yield sent
    if settings.REDIS_URL:
        redis.Redis.from_url(settings.REDIS_URL).delete(doorbell.PENDING_KEY.format(lane="default"))


def ingest(ref: str):
    return ingest_event(source="crm", type="invoice.approved", external_id=ref, payload={"id": ref, "amount": 1})


def test_an_event_costs_one_transaction_and_no_update_of_its_run(
    published, messages, django_capture_on_commit_callbacks
):
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        result = ingest("e1")
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # The event, the flows it triggers, its run: written in one transaction (a savepoint
    # inside the test's own), then rung without writing the run again.
    assert [s for s in statements if s not in ("SAVEPOINT", "RELEASE")] == ["INSERT", "SELECT", "INSERT"]
    assert len(messages) == 1
    run = Run.objects.get(pk=result.runs[0].pk)
    assert run.enqueued_at is not None  # written with the row: the dispatcher leaves it to its message


@pytest.mark.redis
def test_events_arriving_while_their_lanes_doorbell_waits_publish_nothing(
    published, messages, django_capture_on_commit_callbacks
):
    for i in range(10):
        with django_capture_on_commit_callbacks(execute=True):
            ingest(f"e{i}")
    assert len(messages) == 1  # one message stands for the ten runs until a worker takes it


def test_the_flows_an_event_triggers_follow_publishing_and_pausing_at_once(published, messages):
    flow = published.flow
    assert matching_versions("crm", "invoice.approved") == [published]
    assert matching_versions("crm", "invoice.paid") == []
    assert matching_versions("erp", "invoice.approved") == []
    set_status(flow, "system:test", "paused")
    assert matching_versions("crm", "invoice.approved") == []
    set_status(flow, "system:test", "active")
    save_draft(flow, "system:test", {**FLOW, "trigger": {"type": "event", "connection": "crm", "event": "*"}})
    newer = publish(flow, "system:test")
    assert matching_versions("crm", "invoice.approved") == [newer]  # the newest version only
    assert matching_versions("crm", "anything.else") == [newer]
    assert ingest("after-publish").runs[0].flow_version == newer


def test_only_event_triggers_of_that_source_match(db):
    manual = {**FLOW, "trigger": {"type": "manual"}}
    other = {**FLOW, "trigger": {"type": "event", "connection": "crm2", "event": "invoice.approved"}}
    anything = {**FLOW, "trigger": {"type": "event", "connection": "crm", "event": "*"}}
    for key, definition in (("manual", manual), ("other", other), ("anything", anything)):
        publish(create_flow("system:test", key=key, name=key, definition=definition), "system:test")
    assert [v.flow.key for v in matching_versions("crm", "invoice.approved")] == ["anything"]
    assert [v.flow.key for v in matching_versions("crm2", "invoice.approved")] == ["other"]
