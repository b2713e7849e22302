"""POST /api/v1/events/ (token auth): 202 with the event and its runs; the same external id
again → 200 with the first result; bad input → 400 naming the field. Replay."""

import pytest

from integrations.deliveries.models import Delivery
from integrations.events.models import Event
from integrations.runs.models import Run
from integrations.runs.services import execute_run
from tests.api.runtime_fixtures import *  # noqa: F403
from tests.api.runtime_fixtures import problem_fields

pytestmark = pytest.mark.django_db
URL = "/api/v1/events/"
EVENT = {
    "connection": "crm",
    "type": "invoice.approved",
    "external_id": "evt-9",
    "payload": {"id": "INV-9", "amount": 3},
}


def test_an_event_is_accepted_once(token_client, invoice_flow):
    api = token_client("operator")
    first = api.post(URL, EVENT, content_type="application/json")
    assert first.status_code == 202
    body = first.json()
    assert body["runs"] == [Run.objects.get().pk] and body["duplicate"] is False
    for _ in range(2):
        again = api.post(URL, EVENT, content_type="application/json")
        assert again.status_code == 200 and again.json() == {**body, "duplicate": True}
    assert Event.objects.count() == 1 and Run.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"external_id": ""}, "external_id"),
        ({"payload": [1, 2]}, "payload"),
        ({"connection": "nope"}, "connection"),
        ({"type": None}, "type"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_events_are_400_naming_the_field(token_client, invoice_flow, change, field):
    response = token_client("operator").post(URL, {**EVENT, **change}, content_type="application/json")
    assert response.status_code == 400
    assert field in problem_fields(response)
    assert Event.objects.count() == 0


def test_who_may_send_events(client, token_client, invoice_flow):
    assert client.post(URL, EVENT, content_type="application/json").status_code == 401
    assert token_client("viewer").post(URL, EVENT, content_type="application/json").status_code == 403
    assert token_client("viewer").get(URL).status_code == 200


def test_replay_runs_the_current_version_and_never_reposts_what_is_done(token_client, invoice_flow, erp_offline):
    api = token_client("operator")
    event_id = api.post(URL, EVENT, content_type="application/json").json()["event"]
    first = Run.objects.get()
    execute_run(first.pk)
    Delivery.objects.update(state="SUCCEEDED", remote_id="R-1")  # the ledger says: done
    response = api.post(URL + "replay/", {"ids": [event_id]}, content_type="application/json")
    assert response.status_code == 202
    [replayed] = response.json()
    assert replayed["trigger"] == "replay" and replayed["sequence"] == 1
    run = execute_run(replayed["id"])
    assert run.status == "succeeded" and Delivery.objects.count() == 1
    assert run.steps.get(step_id="post").output["remote_id"] == "R-1"


def test_replay_needs_a_selection(token_client, invoice_flow):
    response = token_client("operator").post(URL + "replay/", {}, content_type="application/json")
    assert response.status_code == 400 and "ids" in problem_fields(response)
    assert (
        token_client("analyst").post(URL + "replay/", {"ids": [1]}, content_type="application/json").status_code == 403
    )


def test_a_replay_dry_run_shows_what_the_new_version_would_write_against_the_ledger(
    token_client, invoice_flow, erp_offline, personas
):
    import copy

    from integrations.flows.services import publish, save_draft
    from tests.runtime.conftest import INVOICE_FLOW

    api = token_client("operator")
    done = api.post(URL, EVENT, content_type="application/json").json()
    new = api.post(URL, {**EVENT, "external_id": "evt-10", "payload": {"id": "INV-10", "amount": 4}},
                   content_type="application/json").json()  # fmt: skip
    execute_run(done["runs"][0])
    Delivery.objects.update(state="SUCCEEDED")  # INV-9 is posted; INV-10 never ran
    v2 = copy.deepcopy(INVOICE_FLOW)
    v2["steps"][0]["fields"][2]["constant"] = "USD"
    save_draft(invoice_flow, personas["analyst"], v2)
    publish(invoice_flow, personas["analyst"])
    body = {"ids": [done["event"], new["event"]], "dry_run": True}
    response = api.post(URL + "replay/", body, content_type="application/json")
    assert response.status_code == 200
    by_event = {row["event"]: row for row in response.json()}
    [posted] = by_event[done["event"]]["deliveries"]
    assert (posted["key"], posted["ledger"], posted["would_post"]) == ("invoice:INV-9", "SUCCEEDED", False)
    assert posted["changes"] == {"currency": ["EUR", "USD"]}
    [fresh] = by_event[new["event"]]["deliveries"]
    assert (fresh["ledger"], fresh["would_post"], by_event[new["event"]]["version"]) == (None, True, 2)
    assert Run.objects.count() == 2 and Delivery.objects.count() == 1  # nothing started, nothing written
