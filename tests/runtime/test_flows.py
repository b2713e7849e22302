"""Flow lifecycle: drafts validated with errors naming step and field, publish freezes a
numbered version, test-runs write nothing."""

import copy

import pytest

from integrations.audit.models import AuditEntry
from integrations.flows.services import DraftInvalid, create_flow, publish, save_draft
from integrations.flows.testing import test_run as dry_run
from integrations.runs.models import Run
from tests.runtime.conftest import INVOICE_FLOW

pytestmark = pytest.mark.django_db


def test_a_bad_draft_is_refused_naming_the_step_and_field(personas, doorbells):
    flow = create_flow(personas["analyst"], key="invoices", name="Invoices", definition=INVOICE_FLOW)
    bad = copy.deepcopy(INVOICE_FLOW)
    del bad["steps"][1]["key"]
    with pytest.raises(DraftInvalid) as caught:
        save_draft(flow, personas["analyst"], bad)
    assert any(e["step_id"] == "post" and "key" in (e["field"] + e["message"]) for e in caught.value.errors)
    assert flow.draft.definition == INVOICE_FLOW  # unchanged


def test_publish_freezes_a_numbered_version_and_opens_a_new_draft(personas, doorbells):
    analyst = personas["analyst"]
    flow = create_flow(analyst, key="invoices", name="Invoices", definition=INVOICE_FLOW)
    v1 = publish(flow, analyst, notes="first")
    edited = copy.deepcopy(INVOICE_FLOW)
    edited["steps"][0]["fields"][2]["constant"] = "USD"
    save_draft(flow, analyst, edited)
    v1.refresh_from_db()
    assert (v1.number, v1.state, v1.notes) == (1, "published", "first")
    assert v1.definition == INVOICE_FLOW  # the published version did not move with the draft
    assert publish(flow, analyst).number == 2
    flow.refresh_from_db()
    assert flow.status == "active" and flow.live_version.number == 2
    assert AuditEntry.objects.filter(action="flow.publish").count() == 2


def test_a_test_run_computes_every_step_and_writes_nothing(personas, doorbells):
    flow = create_flow(personas["analyst"], key="invoices", name="Invoices", definition=INVOICE_FLOW)
    result = dry_run(flow, personas["analyst"], {"id": "INV-1", "amount": 120})
    assert result["status"] == "completed"
    post = result["steps"][1]
    assert post["output"]["simulated"] is True and post["output"]["key"] == "invoice:INV-1"
    assert Run.objects.count() == 0
