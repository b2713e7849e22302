"""The flow detail of the API shows the flow's backlog: runs queued for a worker and runs in
progress (running, waiting for deliveries or chunks), so a poll's backlog is visible."""

import pytest

from integrations.runs.choices import RunStatus
from integrations.runs.models import Run
from tests.api.runtime_fixtures import *  # noqa: F403
from tests.runtime.conftest import INVOICE_FLOW

pytestmark = pytest.mark.django_db
URL = "/api/v1/flows/"


def test_the_flow_detail_counts_queued_and_in_progress_runs(token_client, crm, doorbells):
    analyst = token_client("analyst")
    body = {"key": "invoices", "name": "Invoices", "definition": INVOICE_FLOW}
    assert analyst.post(URL, body, content_type="application/json").status_code == 201
    assert analyst.post(URL + "invoices/publish/", {}, content_type="application/json").status_code == 201
    viewer = token_client("viewer")
    assert viewer.get(URL + "invoices/").json()["backlog"] == {"queued": 0, "in_progress": 0}
    operator = token_client("operator")
    for i in range(3):
        record = {"record": {"id": f"I-{i}", "amount": i}}
        assert operator.post(URL + "invoices/run/", record, content_type="application/json").status_code == 202
    Run.objects.filter(pk=Run.objects.order_by("id").first().pk).update(status=RunStatus.WAITING_DELIVERY)
    assert viewer.get(URL + "invoices/").json()["backlog"] == {"queued": 2, "in_progress": 1}
    assert "backlog" not in viewer.get(URL).json()["results"][0]  # the list stays one query
