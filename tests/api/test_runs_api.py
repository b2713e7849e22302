"""Runs over the API: filtered lists and one run with its steps."""

import pytest

from integrations.events.services import ingest_event
from integrations.runs.services import execute_run
from tests.api.runtime_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
URL = "/api/v1/runs/"


def test_runs_filter_and_show_their_steps(token_client, invoice_flow, erp_offline):
    ok = ingest_event(
        source="crm",
        type="invoice.approved",
        external_id="a",
        payload={"id": "I-1", "amount": 1},
        business_key="client-7",
    )
    bad = ingest_event(source="crm", type="invoice.approved", external_id="b", payload={"amount": 1})
    execute_run(ok.runs[0].pk)
    execute_run(bad.runs[0].pk)
    api = token_client("viewer")
    failed = api.get(URL, {"status": "failed"}).json()["results"]
    assert [r["id"] for r in failed] == [bad.runs[0].pk]
    assert [r["id"] for r in api.get(URL, {"business_key": "client-7"}).json()["results"]] == [ok.runs[0].pk]
    assert len(api.get(URL, {"flow": "invoices", "trigger": "event"}).json()["results"]) == 2
    detail = api.get(f"{URL}{ok.runs[0].pk}/").json()
    assert detail["status"] == "waiting-delivery" and detail["flow"] == "invoices" and detail["version"] == 1
    assert [(s["step_id"], s["status"]) for s in detail["steps"]] == [("shape", "succeeded"), ("post", "waiting")]
    assert token_client("outsider").get(URL).status_code == 403
