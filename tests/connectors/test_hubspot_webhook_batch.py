"""HubSpot posts its webhook events in batches (a JSON array, up to 100 per request): the intake
stores one event per entry under its own eventId, starts the lead-to-project flow for each, and
a re-sent batch stores nothing twice. The signature still covers the whole body."""

from __future__ import annotations

import json
import time

import pytest

from integrations.connections.models import Connection
from integrations.events.models import Event
from integrations.gallery.catalog import BY_KEY
from integrations.runs.models import Run
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.hubspot import VENDOR
from integrations.sandboxes.hubspot import webhooks as sandbox_webhooks
from integrations.sandboxes.hubspot.seed import seed
from integrations.sandboxes.hubspot.webhooks import sign
from tests.connectors.shapes import demo_connector
from tests.runtime.conftest import publish_flow

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "hubspot-app-client-secret-for-tests"
TARGET = "https://switchboard.example/hooks/hubspot/"
FLOW = BY_KEY["lead-to-project-hubspot"].definition


def change(event_id: int, deal: int, prop: str = "dealstage", value: str = "closedwon") -> dict:
    return {"eventId": event_id, "subscriptionId": 4321, "portalId": 62515, "occurredAt": 1764900000000 + event_id,
            "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": deal,
            "propertyName": prop, "propertyValue": value, "changeSource": "CRM"}  # fmt: skip


BATCH = [change(101, 18290000001), change(102, 18290000002), change(103, 18290000003, "amount", "5000")]


@pytest.fixture
def won_deal_flow(personas, monkeypatch):
    monkeypatch.setattr("integrations.runs.doorbell.enqueue_runs", lambda ids, **options: None)  # no queue here
    connection = Connection(name="hubspot", kind="hubspot", base_url="https://api.hubapi.com",
                            config={"webhook_url": TARGET})  # fmt: skip
    connection.set_credentials({"client_secret": SECRET, "access_token": "pat-na1-test"})
    connection.save()
    return publish_flow(personas["analyst"], FLOW, key="lead-to-project-hubspot")


def post(client, events, *, secret: str = SECRET, body: bytes | None = None):
    body = json.dumps(events).encode() if body is None else body
    headers = sign(secret, "POST", TARGET, body, str(int(time.time() * 1000)))
    return client.post("/hooks/hubspot/", body, content_type="application/json", headers=headers)


def flow_runs(flow) -> list[Run]:
    return list(Run.objects.filter(flow_version__flow=flow).order_by("id"))


def test_a_batch_of_three_is_stored_as_three_events_each_starting_the_flow(client, won_deal_flow):
    response = post(client, BATCH)
    assert response.status_code == 202, response.content
    events = list(Event.objects.filter(source="hubspot").order_by("id"))
    assert [(e.type, e.external_id) for e in events] == [("deal.propertyChange", str(n)) for n in (101, 102, 103)]
    assert [e.payload for e in events] == BATCH  # each entry as HubSpot sent it, as a one-event request stores it
    runs = flow_runs(won_deal_flow)
    assert [r.event_id for r in runs] == [e.pk for e in events]
    answer = response.json()
    assert [a["event"] for a in answer["events"]] == [e.pk for e in events]
    assert answer["runs"] == [r.pk for r in runs] and answer["duplicate"] is False


def test_a_re_sent_batch_stores_nothing_and_starts_nothing(client, won_deal_flow):
    assert post(client, BATCH).status_code == 202
    retry = [{**e, "attemptNumber": 1} for e in BATCH]  # HubSpot's retry: same eventIds
    again = post(client, retry)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Event.objects.count() == 3 and len(flow_runs(won_deal_flow)) == 3
    # A later batch that repeats one event and brings a new one stores only the new one.
    mixed = post(client, [retry[0], change(104, 18290000004)])
    assert mixed.status_code == 202 and [a["duplicate"] for a in mixed.json()["events"]] == [True, False]
    assert Event.objects.count() == 4 and len(flow_runs(won_deal_flow)) == 4


def test_a_one_event_batch_is_stored_and_answered_as_before(client, won_deal_flow):
    response = post(client, BATCH[:1])
    event = Event.objects.get()
    assert (event.type, event.external_id, event.payload) == ("deal.propertyChange", "101", BATCH[0])
    assert response.json() == {"event": event.pk, "runs": [flow_runs(won_deal_flow)[0].pk], "duplicate": False}


def test_a_bad_signature_stores_nothing_and_is_401(client, won_deal_flow):
    response = post(client, BATCH, secret="not-the-app-secret")
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
    body = json.dumps(BATCH).encode()
    signed = sign(SECRET, "POST", TARGET, body, str(int(time.time() * 1000)))
    tampered = body.replace(b'"amount"', b'"dealstage"')  # signature over the whole body: one entry changed
    assert client.post("/hooks/hubspot/", tampered, content_type="application/json", headers=signed).status_code == 401
    assert not Event.objects.exists() and not Run.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (b"[]", "body", "JSON array of HubSpot events"),
        (b"not json", "body", "not valid JSON"),
        (b"[1]", "body[0]", "HubSpot event object"),
        (
            json.dumps([change(1, 1), {"subscriptionType": "deal.propertyChange"}]).encode(),
            "body[1].eventId",
            "required",
        ),
        (json.dumps([change(1, 1), {**change(2, 2), "eventId": ""}]).encode(), "body[1].eventId", "required"),
        (json.dumps([change(n, n) for n in range(101)]).encode(), "body", "at most 100 events"),
        (json.dumps([change(1, 1), {**change(2, 2), "subscriptionType": "x" * 200}]).encode(), "body[1].type", "120"),
    ],
)
def test_a_bad_batch_is_a_400_naming_the_problem_and_stores_nothing(client, won_deal_flow, body, field, words):
    response = post(client, None, body=body)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in errors and words in errors[field][0]
    assert not Event.objects.exists() and not Run.objects.exists()


def test_the_sandbox_sends_one_signed_request_for_a_batch_of_deal_changes(sandbox_origin, settings, monkeypatch):
    settings.SWITCHBOARD_SANDBOX_WEBHOOKS_SYNC = True
    requests = []
    emit = sandbox_webhooks.emit_webhook
    monkeypatch.setattr(
        sandbox_webhooks, "emit_webhook", lambda *a, **kw: requests.append(kw["body"]) or emit(*a, **kw)
    )
    hubspot = demo_connector(VENDOR, seed)
    open_deals = [r.data["properties"] for r in store.records(VENDOR, "deals").order_by("id")
                  if r.data["properties"]["dealstage"] not in ("closedwon", "closedlost")][:3]  # fmt: skip
    stages = ["closedwon", "closedwon", "closedlost"]
    changes = {d["external_id"]: {"dealstage": s} for d, s in zip(open_deals, stages, strict=True)}
    outcome = hubspot.upsert_many("deals", "external_id", changes)  # one batch/upsert call
    assert not outcome.errors and len(requests) == 1
    sent = json.loads(requests[0])
    assert [e["propertyValue"] for e in sent] == stages and len({e["eventId"] for e in sent}) == 3
    events = Event.objects.filter(source=VENDOR).order_by("id")
    assert [e.external_id for e in events] == [str(e["eventId"]) for e in sent]
    assert {e.type for e in events} == {"deal.propertyChange"}
