"""Every runtime endpoint refuses a signed-in user without a role, and anonymous callers."""

import pytest

from tests.api.runtime_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/flows/"),
    ("post", "/api/v1/flows/"),
    ("get", "/api/v1/flows/invoices/draft/"),
    ("post", "/api/v1/flows/invoices/publish/"),
    ("post", "/api/v1/flows/invoices/test-run/"),
    ("post", "/api/v1/flows/invoices/run/"),
    ("post", "/api/v1/flows/invoices/invoke"),
    ("get", "/api/v1/runs/"),
    ("get", "/api/v1/exceptions/"),
    ("post", "/api/v1/exceptions/bulk/"),
    ("get", "/api/v1/exceptions/jobs/1/"),
    ("get", "/api/v1/approvals/"),
    ("get", "/api/v1/events/"),
    ("post", "/api/v1/events/"),
    ("post", "/api/v1/events/replay/"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_outsiders_and_anonymous_are_refused(client, token_client, invoice_flow, method, url):
    assert getattr(token_client("outsider"), method)(url, {}, content_type="application/json").status_code == 403
    assert getattr(client, method)(url, {}, content_type="application/json").status_code == 401


def test_replay_by_time_range_and_source(token_client, invoice_flow):
    from django.utils import timezone

    from integrations.events.services import ingest_event

    before = timezone.now()
    ingest_event(source="crm", type="invoice.approved", external_id="a", payload={"id": "A", "amount": 1})
    body = {"received_from": before.isoformat(), "source": "crm"}
    response = token_client("operator").post("/api/v1/events/replay/", body, content_type="application/json")
    assert response.status_code == 202 and [r["trigger"] for r in response.json()] == ["replay"]
    backwards = {"received_from": timezone.now().isoformat(), "received_to": before.isoformat()}
    response = token_client("operator").post("/api/v1/events/replay/", backwards, content_type="application/json")
    assert response.status_code == 400
